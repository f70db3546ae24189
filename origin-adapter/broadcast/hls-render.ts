/**
 * The broadcast's HLS playlists (RFC 8216), from its timeline: fMP4 segments with an EXT-X-MAP
 * per run of the source, EXT-X-DISCONTINUITY where the streamer reconnected (new timestamps,
 * maybe new encoder settings), EXT-X-DISCONTINUITY-SEQUENCE for the ones that slid out, and
 * EXT-X-PROGRAM-DATE-TIME on every segment (hls.js aligns the audio and video playlists by it).
 */
import { bandwidthOf, type RepInfo } from './epoch-mpd.js';
import type { Timeline } from './timeline.js';

export const MEDIA_PLAYLIST = /^media_([A-Za-z0-9]{1,8})\.m3u8$/;
export const mediaPlaylistName = (repId: string): string => `media_${repId}.m3u8`;

const quoted = (s: string): string => s.replace(/["\r\n]/g, '');

export function renderMaster(reps: readonly RepInfo[]): string {
  const video = reps.filter((r) => r.contentType === 'video');
  const audio = reps.find((r) => r.contentType === 'audio');
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (audio !== undefined && video.length > 0) {
    lines.push(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="${mediaPlaylistName(audio.id)}"`);
  }
  // An audio-only source is played as its one variant.
  for (const v of video.length > 0 ? video : audio ? [audio] : []) {
    const codecs = [v.codecs, v.contentType === 'video' ? audio?.codecs : undefined].filter((c): c is string => c !== undefined);
    const attrs = [
      `BANDWIDTH=${bandwidthOf(v) + (v.contentType === 'video' && audio ? bandwidthOf(audio) : 0)}`,
      ...(v.width !== undefined && v.height !== undefined ? [`RESOLUTION=${v.width}x${v.height}`] : []),
      ...(codecs.length > 0 ? [`CODECS="${quoted(codecs.join(','))}"`] : []),
      ...(v.contentType === 'video' && audio ? ['AUDIO="audio"'] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, mediaPlaylistName(v.id));
  }
  return `${lines.join('\n')}\n`;
}

/** undefined when the representation has nothing listed. */
export function renderMediaPlaylist(timeline: Timeline, repId: string, segmentSec: number): string | undefined {
  const groups = timeline.window(repId);
  const first = groups[0]?.segments[0];
  if (groups[0] === undefined || first === undefined) return undefined;
  const durations = groups.flatMap((g) => g.segments.map((s) => s.seg.d / g.rep.timescale));
  // RFC 8216 4.3.3.1: each EXTINF rounded to the nearest integer must not exceed it (ceil would flap between refreshes).
  const target = Math.max(segmentSec, Math.round(Math.max(...durations)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${target}`, `#EXT-X-MEDIA-SEQUENCE:${first.seq}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${groups[0].ordinal}`];
  groups.forEach((g, i) => {
    if (i > 0) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-MAP:URI="${quoted(g.rep.init)}"`);
    for (const s of g.segments) {
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.wallMs).toISOString()}`, `#EXTINF:${(s.seg.d / g.rep.timescale).toFixed(6)},`, s.seg.name);
    }
  });
  return `${lines.join('\n')}\n`;
}
