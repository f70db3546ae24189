/**
 * Embedded live source: ffmpeg encodes a test pattern into a live sliding
 * window, published as DASH and HLS over the same fMP4 segments, in a fresh
 * temp dir. ffmpeg is restarted if it dies (bounded), and never outlives this
 * process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogFn } from './config.js';
import { liveArgs, listedSegments, MANIFESTS } from './ffmpeg-args.js';

export interface LiveSourceOptions {
  readonly segmentSec: number;
  readonly windowSegments: number;
  /** Video renditions of the ABR ladder (1..3). */
  readonly renditions: number;
  /** Constant video bitrate with filler (kbit/s), one rendition only; undefined: the ladder's rate. */
  readonly bitrateKbps?: number | undefined;
  readonly log: LogFn;
  /** Default: the binary of @ffmpeg-installer/ffmpeg. */
  readonly ffmpegPath?: string;
  /** Restarts allowed before giving up; the count resets after a minute of healthy running. */
  readonly maxRestarts?: number;
}

export interface LiveSource {
  /** Holds stream.mpd, master.m3u8, media_N.m3u8, init-eE-R.m4s and chunk-eE-R-NNNNNN.m4s. */
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

export async function defaultFfmpegPath(): Promise<string> {
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

  let epoch = 0;

  function spawnFfmpeg(): void {
    const args = liveArgs({
      dir,
      segmentSec: o.segmentSec,
      windowSegments: o.windowSegments,
      renditions: o.renditions,
      epoch,
      ...(o.bitrateKbps !== undefined ? { bitrateKbps: o.bitrateKbps } : {}),
    });
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
        epoch++;
        if (!stopping) spawnFfmpeg();
      }, RESTART_DELAY_MS);
    });
  }

  async function waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await readFile(join(dir, MANIFESTS.firstMedia), 'utf8').catch(() => '');
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
      process.on('exit', killOnExit);
      spawnFfmpeg();
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
