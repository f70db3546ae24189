/**
 * Embedded VOD asset: ffmpeg encodes a short test clip once, at startup, into
 * one file per rendition addressed by byte ranges (DASH SegmentList/mediaRange
 * and HLS EXT-X-BYTERANGE over the same files).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vodArgs } from './ffmpeg-args.js';
import { defaultFfmpegPath } from './live-source.js';

export interface VodAsset {
  readonly dir: string;
  /** Removes the files. Idempotent. */
  stop(): Promise<void>;
}

export interface VodOptions {
  readonly segmentSec: number;
  readonly durationSec: number;
  readonly ffmpegPath?: string;
}

const ENCODE_TIMEOUT_MS = 120_000;

export async function createVodAsset(o: VodOptions): Promise<VodAsset> {
  const bin = o.ffmpegPath ?? (await defaultFfmpegPath());
  const dir = await mkdtemp(join(tmpdir(), 'relaycast-vod-'));
  const stop = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const p = spawn(bin, vodArgs({ dir, segmentSec: o.segmentSec, durationSec: o.durationSec }), { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr?.setEncoding('utf8');
      p.stderr?.on('data', (s: string) => {
        stderr = (stderr + s).slice(-4000);
      });
      const timer = setTimeout(() => p.kill('SIGKILL'), ENCODE_TIMEOUT_MS);
      p.on('error', (e) => reject(e));
      p.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`vod asset: ffmpeg exited (${code ?? signal ?? '?'}):\n${stderr}`));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, stop };
}
