/**
 * Embedded live source: ffmpeg encodes a test pattern into a live HLS sliding
 * window in a fresh temp dir. ffmpeg is restarted if it dies (bounded), and
 * never outlives this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogFn } from './config.js';
import { ffmpegArgs, listedSegments, masterPlaylist, SEGMENT_PATTERN } from './ffmpeg-args.js';

export interface LiveSourceOptions {
  readonly segmentSec: number;
  readonly windowSegments: number;
  readonly log: LogFn;
  /** Default: the binary of @ffmpeg-installer/ffmpeg. */
  readonly ffmpegPath?: string;
  /** Restarts allowed before giving up; the count resets after a minute of healthy running. */
  readonly maxRestarts?: number;
}

export interface LiveSource {
  /** Holds master.m3u8, index.m3u8 and seg_NNNNNN.ts. */
  readonly dir: string;
  /** Resolves once the media playlist lists at least 3 segments. */
  start(): Promise<void>;
  /** Kills ffmpeg (SIGTERM, SIGKILL after 2 s) and removes the dir. Idempotent. */
  stop(): Promise<void>;
}

const STDERR_LINES = 50;
const READY_SEGMENTS = 3;
const KILL_GRACE_MS = 2000;
const RESTART_DELAY_MS = 1000;
const HEALTHY_RUN_MS = 60_000;

async function defaultFfmpegPath(): Promise<string> {
  // Imported lazily: the installer package throws at import time on unsupported platforms.
  const mod = await import('@ffmpeg-installer/ffmpeg');
  return mod.default.path;
}

export async function createLiveSource(o: LiveSourceOptions): Promise<LiveSource> {
  const bin = o.ffmpegPath ?? (await defaultFfmpegPath());
  const dir = await mkdtemp(join(tmpdir(), 'relaycast-live-'));
  const maxRestarts = o.maxRestarts ?? 5;
  const stderrTail: string[] = [];
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let startedAtMs = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let stopped: Promise<void> | undefined;

  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  const tail = (): string => stderrTail.join('\n');

  async function nextSegmentNumber(): Promise<number> {
    const names = await readdir(dir).catch(() => [] as string[]);
    let max = -1;
    for (const n of names) {
      const m = SEGMENT_PATTERN.exec(n);
      if (m?.[1] !== undefined) max = Math.max(max, Number(m[1]));
    }
    return max + 1;
  }

  function spawnFfmpeg(startNumber: number, discontinuity: boolean): void {
    const args = ffmpegArgs({ dir, segmentSec: o.segmentSec, windowSegments: o.windowSegments, startNumber, discontinuity });
    const p = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = p;
    startedAtMs = Date.now();
    let partial = '';
    p.stderr?.setEncoding('utf8');
    p.stderr?.on('data', (s: string) => {
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim() !== '') stderrTail.push(l);
      stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_LINES));
    });
    p.on('error', (e) => {
      stderrTail.push(`spawn error: ${e.message}`);
    });
    p.on('close', (code, signal) => {
      if (child === p) child = undefined;
      if (stopping) return;
      if (Date.now() - startedAtMs > HEALTHY_RUN_MS) restarts = 0;
      if (restarts >= maxRestarts) {
        o.log(`live source: ffmpeg exited (${code ?? signal ?? '?'}); giving up after ${restarts} restarts\n${tail()}`);
        return;
      }
      restarts++;
      o.log(`live source: ffmpeg exited (${code ?? signal ?? '?'}); restart ${restarts}/${maxRestarts}\n${tail()}`);
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        void nextSegmentNumber().then((n) => {
          if (!stopping) spawnFfmpeg(n, true);
        });
      }, RESTART_DELAY_MS);
    });
  }

  async function waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await readFile(join(dir, 'index.m3u8'), 'utf8').catch(() => '');
      if (listedSegments(text).length >= READY_SEGMENTS) return;
      if (stopping) throw new Error('live source stopped before it was ready');
      if (Date.now() > deadline) {
        throw new Error(`live source: no playlist with ${READY_SEGMENTS} segments after ${timeoutMs} ms; ffmpeg said:\n${tail()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function stop(): Promise<void> {
    stopping = true;
    if (restartTimer !== undefined) clearTimeout(restartTimer);
    const p = child;
    if (p !== undefined && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise<void>((r) => p.once('close', () => r()));
      p.kill('SIGTERM');
      const force = setTimeout(() => p.kill('SIGKILL'), KILL_GRACE_MS);
      await exited;
      clearTimeout(force);
    }
    process.removeListener('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
  }

  const stopOnce = (): Promise<void> => {
    stopped ??= stop();
    return stopped;
  };
  return {
    dir,
    async start() {
      await writeFile(join(dir, 'master.m3u8'), masterPlaylist());
      process.on('exit', killOnExit);
      spawnFfmpeg(0, false);
      const timeoutMs = (READY_SEGMENTS + 2) * o.segmentSec * 1000 + 10_000;
      try {
        await waitReady(timeoutMs);
      } catch (e) {
        await stopOnce();
        throw e;
      }
    },
    stop: stopOnce,
  };
}
