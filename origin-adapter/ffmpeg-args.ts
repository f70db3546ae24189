/**
 * Pure builders for the embedded source's ffmpeg command lines. One ffmpeg
 * dash muxer run publishes the stream both ways over the same fMP4 (CMAF)
 * segments: DASH (stream.mpd, SegmentTemplate + SegmentTimeline) and HLS
 * (master.m3u8 + media_N.m3u8 with EXT-X-MAP), one rendition per ladder rung
 * plus one audio rendition.
 */
import { join } from 'node:path';

export interface Rung {
  readonly width: number;
  readonly height: number;
  readonly videoBitrateK: number;
}

/** The ABR ladder, lowest first; `renditions: n` publishes the first n rungs. */
export const LADDER: readonly Rung[] = [
  { width: 320, height: 180, videoBitrateK: 250 },
  { width: 480, height: 270, videoBitrateK: 400 },
  { width: 640, height: 360, videoBitrateK: 600 },
];

export const STREAM = { fps: 25, audioBitrateK: 64, audioRate: 48000 } as const;

export interface LiveEncodeOptions {
  readonly dir: string;
  readonly segmentSec: number;
  readonly windowSegments: number;
  /** Video renditions, 1..LADDER.length. */
  readonly renditions: number;
  /**
   * Run number of ffmpeg in this dir (0 first, +1 per restart). It is part of every
   * segment name: the dash muxer always numbers from 1, and a name must never carry
   * two different contents (players, caches and peers key segments by URL).
   */
  readonly epoch: number;
  /**
   * Constant video bitrate (kbit/s) with filler, instead of the ladder's rate; only with one
   * rendition. HD-sized segments from a picture that costs little to encode and decode.
   */
  readonly bitrateKbps?: number;
}

/** Media segments the embedded source writes: epoch, representation, number. */
export const SEGMENT_PATTERN = /^chunk-e(\d+)-(\d+)-(\d{6,})\.m4s$/;

export const MANIFESTS = { dash: 'stream.mpd', hls: 'master.m3u8', firstMedia: 'media_0.m3u8' } as const;

/**
 * x264 in CBR with filler NAL units: every segment carries `k` kbit/s whatever the picture, so a
 * 320x180 test pattern yields the bytes of an HD stream (the dash muxer keeps the filler NALs in
 * the fMP4 segments: a 2 s segment at 3000 kbit/s is about 750 kB). The VBV buffer is half a
 * second of video.
 */
export function cbrArgs(k: number): string[] {
  return [
    '-b:v:0', `${k}k`, '-minrate:v:0', `${k}k`, '-maxrate:v:0', `${k}k`, '-bufsize:v:0', `${Math.max(1, Math.round(k / 2))}k`,
    '-x264-params:v:0', 'nal-hrd=cbr:filler=1',
  ];
}

function encodeArgs(renditions: number, segmentSec: number, bitrateKbps?: number): string[] {
  const n = Math.max(1, Math.min(LADDER.length, Math.floor(renditions)));
  const gop = String(segmentSec * STREAM.fps); // one keyframe per segment boundary, so every rung switches cleanly
  const rungs = LADDER.slice(0, n);
  const split =
    n === 1
      ? `[0:v]scale=${rungs[0]?.width ?? 320}:${rungs[0]?.height ?? 180}[v0]`
      : `[0:v]split=${n}${rungs.map((_, i) => `[s${i}]`).join('')};` + rungs.map((r, i) => `[s${i}]scale=${r.width}:${r.height}[v${i}]`).join(';');
  return [
    '-filter_complex', split,
    ...rungs.flatMap((_, i) => ['-map', `[v${i}]`]),
    '-map', '1:a',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0',
    ...(bitrateKbps !== undefined && n === 1 ? cbrArgs(bitrateKbps) : rungs.flatMap((r, i) => [`-b:v:${i}`, `${r.videoBitrateK}k`])),
    '-c:a', 'aac', '-b:a', `${STREAM.audioBitrateK}k`,
  ];
}

const ADAPTATION_SETS = 'id=0,streams=v id=1,streams=a';

export function liveArgs(o: LiveEncodeOptions): string[] {
  const top = LADDER[Math.min(LADDER.length, o.renditions) - 1] ?? LADDER[0];
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'warning',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${top?.width ?? 320}x${top?.height ?? 180}:rate=${STREAM.fps}`,
    '-re', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${STREAM.audioRate}`,
    ...encodeArgs(o.renditions, o.segmentSec, o.bitrateKbps),
    '-f', 'dash', '-seg_duration', String(o.segmentSec),
    '-window_size', String(o.windowSegments), '-extra_window_size', '3',
    '-use_template', '1', '-use_timeline', '1', '-hls_playlist', '1',
    '-adaptation_sets', ADAPTATION_SETS,
    '-init_seg_name', `init-e${o.epoch}-$RepresentationID$.m4s`,
    '-media_seg_name', `chunk-e${o.epoch}-$RepresentationID$-$Number%06d$.m4s`,
    join(o.dir, MANIFESTS.dash),
  ];
}

export interface VodEncodeOptions {
  readonly dir: string;
  readonly segmentSec: number;
  readonly durationSec: number;
}

/**
 * A VOD asset in one file per rendition, addressed by byte ranges: DASH
 * SegmentList with mediaRange and HLS EXT-X-BYTERANGE + EXT-X-MAP BYTERANGE.
 */
export function vodArgs(o: VodEncodeOptions): string[] {
  const d = String(o.durationSec);
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=${STREAM.fps}:duration=${d}`,
    '-f', 'lavfi', '-i', `sine=frequency=660:sample_rate=${STREAM.audioRate}:duration=${d}`,
    ...encodeArgs(1, o.segmentSec),
    '-f', 'dash', '-seg_duration', String(o.segmentSec), '-single_file', '1',
    '-use_template', '0', '-use_timeline', '0', '-hls_playlist', '1',
    '-adaptation_sets', ADAPTATION_SETS,
    '-single_file_name', 'vod-$RepresentationID$.mp4',
    join(o.dir, MANIFESTS.dash),
  ];
}

/** Segment file names an HLS media playlist lists (only the embedded source's own names). */
export function listedSegments(playlist: string): string[] {
  return playlist
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => SEGMENT_PATTERN.test(l));
}
