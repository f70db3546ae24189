/**
 * ffmpeg's command line for one run ("epoch") of a broadcast: read the source (FLV from the
 * ingest on stdin, or any input ffmpeg opens), copy H.264/AAC through, or add lower rungs
 * encoded from it, and package DASH fMP4 segments into the epoch's own directory. The
 * broadcast writes its HLS and DASH manifests itself from the MPD (timeline.ts).
 */
import { join } from 'node:path';

export type EpochInput =
  /** FLV written to ffmpeg's stdin by the RTMP ingest. */
  | { readonly kind: 'stdin' }
  /** A file or URL; `loop`: start again at its end (files). */
  | { readonly kind: 'input'; readonly input: string; readonly loop: boolean };

export interface EpochArgsOptions {
  readonly dir: string;
  readonly epoch: number;
  readonly input: EpochInput;
  readonly segmentSec: number;
  /** Segments ffmpeg lists in its MPD (the broadcast's window plus a few, so a slow poll misses none). */
  readonly listSegments: number;
  /** 1: the source copied as it is. 2-3: plus lower rungs encoded from it. */
  readonly renditions: number;
}

/** Lower rungs below the copied source: height divisor and bitrate. */
export const LOWER_RUNGS = [
  { divisor: 2, videoBitrateK: 800 },
  { divisor: 4, videoBitrateK: 300 },
] as const;

export const EPOCH_MPD = 'stream.mpd';
export const epochDirName = (epoch: number): string => `e${epoch}`;

/** ffmpeg reads files at their own pace unless told to play them in real time; live sources already are. */
export function isRealtimeSource(input: string): boolean {
  if (/^(rtsp|rtsps|rtmp|rtmps|udp|rtp|srt|tcp):/i.test(input)) return true;
  return /\.(m3u8|mpd)(\?|$)/i.test(input);
}

function inputArgs(i: EpochInput): string[] {
  // A short probe: the pusher's first packets name the streams; 5 s of analysis would be 5 s of latency.
  const probe = ['-analyzeduration', '1000000', '-probesize', '1000000'];
  if (i.kind === 'stdin') return [...probe, '-f', 'flv', '-i', 'pipe:0'];
  return [...probe, ...(isRealtimeSource(i.input) ? [] : ['-re']), ...(i.loop ? ['-stream_loop', '-1'] : []), '-i', i.input];
}

function codecArgs(renditions: number, segmentSec: number): string[] {
  const lower = LOWER_RUNGS.slice(0, Math.max(0, Math.min(LOWER_RUNGS.length, renditions - 1)));
  if (lower.length === 0) return ['-map', '0:v:0', '-map', '0:a:0?', '-c', 'copy'];
  const graph = `[0:v:0]split=${lower.length}${lower.map((_, i) => `[s${i}]`).join('')};` + lower.map((r, i) => `[s${i}]scale=-2:trunc(ih/${r.divisor * 2})*2[l${i}]`).join(';');
  return [
    '-filter_complex', graph,
    '-map', '0:v:0', ...lower.flatMap((_, i) => ['-map', `[l${i}]`]), '-map', '0:a:0?',
    '-c:v:0', 'copy', '-c:a', 'copy',
    ...lower.flatMap((r, i) => {
      const k = String(i + 1);
      // Keyframes where the source has them (its keyframe interval is the segment duration), so every rung switches cleanly.
      return [`-c:v:${k}`, 'libx264', `-preset:v:${k}`, 'veryfast', `-b:v:${k}`, `${r.videoBitrateK}k`, `-force_key_frames:v:${k}`, `expr:gte(t,n_forced*${segmentSec})`, `-pix_fmt:v:${k}`, 'yuv420p'];
    }),
    '-sc_threshold', '0',
  ];
}

export function epochArgs(o: EpochArgsOptions): string[] {
  const e = String(o.epoch);
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'warning',
    ...inputArgs(o.input),
    ...codecArgs(o.renditions, o.segmentSec),
    '-f', 'dash', '-seg_duration', String(o.segmentSec),
    '-window_size', String(o.listSegments), '-extra_window_size', '3',
    '-use_template', '1', '-use_timeline', '1', '-hls_playlist', '0',
    '-adaptation_sets', 'id=0,streams=v id=1,streams=a',
    '-init_seg_name', `init-e${e}-$RepresentationID$.m4s`,
    '-media_seg_name', `chunk-e${e}-$RepresentationID$-$Number%06d$.m4s`,
    join(o.dir, epochDirName(o.epoch), EPOCH_MPD),
  ];
}
