/// <reference lib="webworker" />
/**
 * Learning segments from manifests passing through the worker (HLS playlists
 * and DASH MPDs), before the player sees them, and telling the page about the
 * swarms its player uses.
 */
import { normalizeUrl, segmentId, type IdOptions } from '../protocol/segment-id.js';
import type { PlaylistSegment, PlaylistUpdate } from '../protocol/worker.js';
import type { PlaylistControl } from './control.js';
import { parseMpd } from './manifest/dash-mpd.js';
import type { MediaSegment } from './manifest/hls-playlist.js';
import { parsePlaylist } from './manifest/hls-playlist.js';
import type { WorkerDeps } from './deps.js';
import type { KnownSegment } from './registry.js';

/** Segments of one live playlist forwarded to the page: the live window is small. */
const LIVE_SEGMENTS_TO_PAGE = 64;
/** VOD: the segment the player asked for and the next ones, so the swarm can have them ready. */
export const VOD_WINDOW = 4;

interface Learned {
  readonly swarm: string;
  readonly live: boolean;
  readonly targetDurationSec: number;
  readonly segments: readonly KnownSegment[];
}

function known(s: MediaSegment, swarm: string, live: boolean, idOpts: IdOptions): KnownSegment {
  // Ids drop what the site's config says does not select content (tokens); request keys keep the URL as sent.
  const id = segmentId(normalizeUrl(s.url, undefined, idOpts) ?? s.url, s.range);
  return { ...s, id, swarm, live };
}

function fromHls(text: string, url: string, idOpts: IdOptions, deps: WorkerDeps): Learned[] | undefined {
  const parsed = parsePlaylist(text, url, { ignoreQuery: false });
  if (!parsed.ok) return undefined; // Not something we understand: leave it to the player.
  if (parsed.value.kind === 'master') {
    for (const v of parsed.value.variants) deps.registry.addPlaylist(v);
    return [];
  }
  // One swarm per rendition: the media playlist's normalized URL.
  const swarm = normalizeUrl(url, undefined, idOpts) ?? url;
  const { live, targetDurationSec } = parsed.value;
  return [{ swarm, live, targetDurationSec, segments: parsed.value.segments.map((s) => known(s, swarm, live, idOpts)) }];
}

function fromDash(text: string, url: string, idOpts: IdOptions, nowMs: number): Learned[] | undefined {
  const parsed = parseMpd(text, url, nowMs, { ignoreQuery: false });
  if (!parsed.ok) return undefined;
  const base = normalizeUrl(url, undefined, idOpts) ?? url;
  return parsed.value.representations.map((r) => {
    // One swarm per Representation: the MPD's normalized URL + period/adaptation set/representation.
    const swarm = base + r.swarm.slice(r.swarm.indexOf('#'));
    const longest = Math.max(0, ...r.segments.map((s) => s.durationSec));
    return {
      swarm,
      live: parsed.value.live,
      targetDurationSec: Math.ceil(longest) || 2,
      segments: r.segments.map((s) => known(s, swarm, parsed.value.live, idOpts)),
    };
  });
}

export function toPage(s: KnownSegment, control: Pick<PlaylistControl, 'hashes'>): PlaylistSegment {
  // Published hashes are per URL: a byte range's hash is looked up by the page instead.
  const h = s.range === undefined ? control.hashes.get(s.url) : undefined;
  return {
    id: s.id,
    url: s.url,
    seq: s.seq,
    durationSec: s.durationSec,
    ...(s.range ? { range: s.range } : {}),
    ...(h ? { sha256: h.sha256 } : {}),
    ...(h?.pieceRoot ? { pieceRoot: h.pieceRoot } : {}),
  };
}

export function playlistUpdate(l: Pick<Learned, 'swarm' | 'live' | 'targetDurationSec'>, segs: readonly KnownSegment[], control: PlaylistControl): PlaylistUpdate {
  return {
    type: 'rc-playlist',
    swarm: l.swarm,
    targetDurationSec: l.targetDurationSec,
    live: l.live,
    integrity: control.integrity,
    segments: segs.map((s) => toPage(s, control)),
  };
}

/**
 * Registers every segment of a manifest. Live swarms the page's player uses
 * are told to the page at once (an HLS media playlist is fetched only for the
 * rendition being played; a DASH MPD lists every rendition, so only those the
 * player has requested segments of). VOD windows go to the page as the
 * player asks (see handlers.ts).
 */
export async function learn(deps: WorkerDeps, text: string, url: string, clientId: string, control: PlaylistControl): Promise<void> {
  const playlistUrl = normalizeUrl(url, undefined);
  if (playlistUrl === undefined) return;
  const idOpts: IdOptions = { ignoreQuery: deps.cfg.ignoreQuery, ignoreParams: deps.cfg.ignoreParams, ignoreHost: deps.cfg.ignoreHost };
  const isHls = text.trimStart().startsWith('#EXTM3U');
  const learned = isHls ? fromHls(text, playlistUrl, idOpts, deps) : fromDash(text, playlistUrl, idOpts, deps.now());
  if (learned === undefined) return;
  deps.registry.addPlaylist(playlistUrl);
  deps.registry.markLearned(playlistUrl);
  for (const l of learned) deps.registry.setSwarm(l.swarm, l.segments, { manifestUrl: url, live: l.live, targetDurationSec: l.targetDurationSec, control });
  const live = learned.filter((l) => l.live && (isHls || deps.activity.isActive(clientId, l.swarm)));
  if (live.length === 0) return;
  const client = await deps.link.pick(clientId);
  if (!client) return;
  for (const l of live) deps.link.tell(client, playlistUpdate(l, l.segments.slice(-LIVE_SEGMENTS_TO_PAGE), control));
}
