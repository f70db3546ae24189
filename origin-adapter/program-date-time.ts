/**
 * EXT-X-PROGRAM-DATE-TIME for the embedded live source's HLS media playlists. ffmpeg's DASH
 * muxer writes the HLS playlists without it; the MPD it writes beside them has the wall clock
 * of every segment (availabilityStartTime plus the SegmentTimeline's time). The adapter tags
 * each listed segment with that time, so the audio and video playlists carry the same clock
 * and players align them by date (hls.js, without it, falls back to aligning by sequence and
 * can add the offset again on every audio playlist refresh).
 */
import { XMLParser } from 'fast-xml-parser';
import { expandTemplate } from '../sw/manifest/dash-template.js';
import { parseDateTimeMs, parseIsoDurationSec } from '../sw/manifest/dash-time.js';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['Period', 'AdaptationSet', 'Representation', 'S'].includes(name) });

type Node = Record<string, unknown>;

const asNodes = (v: unknown): Node[] => (Array.isArray(v) ? v.filter((x): x is Node => typeof x === 'object' && x !== null) : []);
const asNode = (v: unknown): Node | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Node) : undefined);

function nonNegInt(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** Most segments read per representation (ffmpeg lists the window plus a few). */
const MAX_SEGMENTS = 1000;

/**
 * The wall-clock start (Unix ms) of each segment a live MPD lists, by file name; empty when the
 * MPD is not dynamic, has no availabilityStartTime, or does not parse.
 */
export function segmentStartTimes(mpd: string): Map<string, number> {
  const out = new Map<string, number>();
  let doc: Node;
  try {
    doc = parser.parse(mpd) as Node;
  } catch {
    return out;
  }
  const root = asNode(doc['MPD']);
  if (!root || root['type'] !== 'dynamic' || typeof root['availabilityStartTime'] !== 'string') return out;
  const ast = parseDateTimeMs(root['availabilityStartTime']);
  if (ast === undefined) return out;
  for (const period of asNodes(root['Period'])) {
    const startSec = parseIsoDurationSec(String(period['start'] ?? 'PT0S'));
    if (startSec === undefined) continue;
    const periodMs = ast + startSec * 1000;
    for (const set of asNodes(period['AdaptationSet'])) {
      for (const rep of asNodes(set['Representation'])) {
        const tpl = asNode(rep['SegmentTemplate']) ?? asNode(set['SegmentTemplate']);
        const repId = rep['id'];
        const media = tpl?.['media'];
        const timescale = nonNegInt(tpl?.['timescale']) ?? 1;
        const pto = nonNegInt(tpl?.['presentationTimeOffset']) ?? 0;
        const timeline = asNode(tpl?.['SegmentTimeline']);
        if (typeof repId !== 'string' || typeof media !== 'string' || timescale === 0 || !timeline) continue;
        let num = nonNegInt(tpl?.['startNumber']) ?? 1;
        let t = 0;
        let count = 0;
        for (const s of asNodes(timeline['S'])) {
          t = nonNegInt(s['t']) ?? t;
          const d = nonNegInt(s['d']);
          const r = nonNegInt(s['r']) ?? 0;
          if (d === undefined || d === 0) break;
          for (let k = 0; k <= r && count < MAX_SEGMENTS; k++, count++) {
            const name = expandTemplate(media, { RepresentationID: repId, Number: num, Time: t });
            if (name !== undefined) out.set(name, periodMs + ((t - pto) / timescale) * 1000);
            num++;
            t += d;
          }
        }
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
