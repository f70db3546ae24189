/**
 * EXT-X-PROGRAM-DATE-TIME for the embedded live source's HLS media playlists. ffmpeg's DASH
 * muxer writes the HLS playlists without it; the MPD it writes beside them has the wall clock
 * of every segment (availabilityStartTime plus the SegmentTimeline's time). The adapter tags
 * each listed segment with that time, so the audio and video playlists carry the same clock
 * and players align them by date (hls.js, without it, falls back to aligning by sequence and
 * can add the offset again on every audio playlist refresh).
 */
import { mpdRoot, timelineSegments, uintAttr, xmlNode, xmlNodes } from './mpd-timeline.js';
import { parseDateTimeMs, parseIsoDurationSec } from '../sw/manifest/dash-time.js';

/**
 * The wall-clock start (Unix ms) of each segment a live MPD lists, by file name; empty when the
 * MPD is not dynamic, has no availabilityStartTime, or does not parse.
 */
export function segmentStartTimes(mpd: string): Map<string, number> {
  const out = new Map<string, number>();
  const root = mpdRoot(mpd);
  if (!root || root['type'] !== 'dynamic' || typeof root['availabilityStartTime'] !== 'string') return out;
  const ast = parseDateTimeMs(root['availabilityStartTime']);
  if (ast === undefined) return out;
  for (const period of xmlNodes(root['Period'])) {
    const startSec = parseIsoDurationSec(String(period['start'] ?? 'PT0S'));
    if (startSec === undefined) continue;
    const periodMs = ast + startSec * 1000;
    for (const set of xmlNodes(period['AdaptationSet'])) {
      for (const rep of xmlNodes(set['Representation'])) {
        const tpl = xmlNode(rep['SegmentTemplate']) ?? xmlNode(set['SegmentTemplate']);
        const repId = rep['id'];
        const timescale = uintAttr(tpl?.['timescale']) ?? 1;
        const pto = uintAttr(tpl?.['presentationTimeOffset']) ?? 0;
        if (typeof repId !== 'string' || timescale === 0 || tpl === undefined) continue;
        for (const seg of timelineSegments(tpl, repId)) out.set(seg.name, periodMs + ((seg.t - pto) / timescale) * 1000);
      }
    }
  }
  return out;
}

/**
 * `playlist` with `#EXT-X-PROGRAM-DATE-TIME` before each segment whose start `times` knows
 * (the tag applies to the segment after it; one without a time takes its predecessor's plus its
 * duration, as players extrapolate). Playlists that already carry the tag are left alone.
 */
export function withProgramDateTime(playlist: string, times: ReadonlyMap<string, number>): string {
  if (times.size === 0 || playlist.includes('#EXT-X-PROGRAM-DATE-TIME')) return playlist;
  const lines = playlist.split('\n');
  const out: string[] = [];
  // Tags of the next segment (EXTINF and the like) are held until its URI shows which one it is.
  let pending: string[] = [];
  for (const line of lines) {
    const l = line.trim();
    if (l.startsWith('#EXTINF:') || (pending.length > 0 && l.startsWith('#') && !l.startsWith('#EXT-X-ENDLIST'))) {
      pending.push(line);
      continue;
    }
    if (pending.length > 0 && l !== '' && !l.startsWith('#')) {
      const at = times.get(l.split('?')[0]?.split('/').pop() ?? '');
      if (at !== undefined) out.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(at).toISOString()}`);
      out.push(...pending, line);
      pending = [];
      continue;
    }
    out.push(...pending, line);
    pending = [];
  }
  out.push(...pending);
  return out.join('\n');
}
