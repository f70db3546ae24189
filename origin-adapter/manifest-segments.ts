/**
 * The segments a manifest lists, read with the worker's own readers (sw/hls-playlist.ts,
 * sw/dash-mpd.ts: pure TypeScript), so the adapter hashes exactly the URLs workers learn.
 * One group per rendition (an HLS media playlist, a DASH Representation), in list order.
 */
import { parseMpd } from '../sw/manifest/dash-mpd.js';
import { parsePlaylist } from '../sw/manifest/hls-playlist.js';

export interface ListedGroup {
  /** Live (the window slides: the newest segments matter) or VOD (the first ones do). */
  readonly live: boolean;
  /** Absolute segment URLs (query as listed), whole segments only: byte ranges are not listed here. */
  readonly urls: readonly string[];
}

const NO_QUERY_CHANGE = { ignoreQuery: false } as const;

/** `[]` for a master playlist, a manifest that does not parse, or one without whole segments. */
export function listedSegments(text: string, manifestUrl: string, nowMs: number): ListedGroup[] {
  if (text.trimStart().startsWith('#EXTM3U')) {
    const p = parsePlaylist(text, manifestUrl, NO_QUERY_CHANGE);
    if (!p.ok || p.value.kind !== 'media') return [];
    return [{ live: p.value.live, urls: p.value.segments.filter((s) => s.range === undefined).map((s) => s.url) }];
  }
  const m = parseMpd(text, manifestUrl, nowMs, NO_QUERY_CHANGE);
  if (!m.ok) return [];
  return m.value.representations.map((r) => ({ live: m.value.live, urls: r.segments.filter((s) => s.range === undefined).map((s) => s.url) }));
}
