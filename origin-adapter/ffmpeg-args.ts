/** Pure builders for the embedded live source: ffmpeg arguments and the static master playlist. */
import { join } from 'node:path';

export interface LiveEncodeOptions {
  readonly dir: string;
  readonly segmentSec: number;
  readonly windowSegments: number;
  /** First segment number (continues numbering after an ffmpeg restart so cached names never repeat). */
  readonly startNumber: number;
  /** Marks a restart: the playlist starts with EXT-X-DISCONTINUITY. */
  readonly discontinuity: boolean;
}

export const LIVE_VIDEO = { width: 320, height: 180, fps: 25, videoBitrateK: 250, audioBitrateK: 64 } as const;

/** Segment file names ffmpeg writes; the number is the media sequence number. */
export const SEGMENT_PATTERN = /^seg_(\d{6,})\.ts$/;

export function ffmpegArgs(o: LiveEncodeOptions): string[] {
  const gop = String(o.segmentSec * LIVE_VIDEO.fps); // one keyframe per segment boundary
  const flags = ['delete_segments', 'independent_segments', 'temp_file', ...(o.discontinuity ? ['discont_start'] : [])];
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'warning',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${LIVE_VIDEO.width}x${LIVE_VIDEO.height}:rate=${LIVE_VIDEO.fps}`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-b:v', `${LIVE_VIDEO.videoBitrateK}k`,
    '-c:a', 'aac', '-b:a', `${LIVE_VIDEO.audioBitrateK}k`,
    '-f', 'hls', '-hls_time', String(o.segmentSec), '-hls_list_size', String(o.windowSegments),
    '-hls_flags', flags.join('+'), '-hls_delete_threshold', '2',
    '-start_number', String(o.startNumber),
    '-hls_segment_filename', join(o.dir, 'seg_%06d.ts'),
    join(o.dir, 'index.m3u8'),
  ];
}

/**
 * x264 picks High profile, level 1.3 for 320x180@25 (checked in the SPS of a
 * segment: 64 00 0d), hence avc1.64000d; AAC-LC is mp4a.40.2.
 */
export function masterPlaylist(): string {
  const bandwidth = Math.round((LIVE_VIDEO.videoBitrateK + LIVE_VIDEO.audioBitrateK) * 1000 * 1.5);
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},RESOLUTION=${LIVE_VIDEO.width}x${LIVE_VIDEO.height},` +
      `FRAME-RATE=${LIVE_VIDEO.fps}.000,CODECS="avc1.64000d,mp4a.40.2"`,
    'index.m3u8',
    '',
  ].join('\n');
}

/** Media sequence numbers of the segments a playlist lists (only our own seg_NNNNNN.ts names). */
export function listedSegments(playlist: string): number[] {
  const out: number[] = [];
  for (const line of playlist.split('\n')) {
    const m = SEGMENT_PATTERN.exec(line.trim());
    if (m?.[1] !== undefined) out.push(Number(m[1]));
  }
  return out;
}
