/// <reference lib="webworker" />
import { normalizeUrl } from '../protocol/segment-id.js';
import { LIMITS } from '../protocol/limits.js';
import type { OriginReply, PlaylistSegment } from '../protocol/worker.js';
import type { WorkerConfig } from './config.js';
import { parsePlaylist } from './hls-playlist.js';
import type { PageLink } from './page-link.js';
import type { KnownSegment, Registry } from './registry.js';
import { readControl, type P2PMode } from './control.js';

/** Segments of one playlist forwarded to the page: the live window is small; a VOD list is cut to its tail. */
const PLAYLIST_SEGMENTS_TO_PAGE = 64;

export interface WorkerDeps {
  readonly cfg: WorkerConfig;
  readonly registry: Registry;
  readonly link: PageLink;
  readonly fetch: (req: Request | string, init?: RequestInit) => Promise<Response>;
  /** The operator's kill switch as last seen on a playlist. */
  readonly state: { p2p: P2PMode };
  readonly unregister: () => Promise<unknown>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ts: 'video/mp2t',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  aac: 'audio/aac',
  m4a: 'audio/mp4',
};

function contentType(url: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase() ?? '';
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

/**
 * Passes a playlist through unchanged and learns its segments before the
 * player sees it, so the player's next segment request is already known.
 */
export async function handlePlaylist(deps: WorkerDeps, request: Request, clientId: string): Promise<Response> {
  const resp = await deps.fetch(request);
  // Keep redirected and non-OK answers byte-for-byte the origin's (hls.js resolves URIs against the final URL).
  if (!resp.ok || resp.redirected || resp.status !== 200) return resp;
  const text = await resp.text();
  const control = readControl(resp.headers, request.url);
  applyKillSwitch(deps, control.p2p);
  if (deps.state.p2p === 'on') learn(deps, text, request.url, clientId, control).catch(() => undefined);
  return new Response(text, { status: resp.status, statusText: resp.statusText, headers: resp.headers });
}

/** 'off': stop intercepting segments at once; 'unregister': also remove this worker for good. */
function applyKillSwitch(deps: WorkerDeps, mode: P2PMode): void {
  if (mode === deps.state.p2p) return;
  deps.state.p2p = mode;
  if (mode !== 'on') deps.registry.clearSegments();
  if (mode === 'unregister') void deps.unregister().catch(() => undefined);
}

async function learn(deps: WorkerDeps, text: string, url: string, clientId: string, control: ReturnType<typeof readControl>): Promise<void> {
  const playlistUrl = normalizeUrl(url, undefined);
  if (playlistUrl === undefined) return;
  const parsed = parsePlaylist(text, playlistUrl, { ignoreQuery: false });
  if (!parsed.ok) return; // Not something we understand: leave it to the player.
  deps.registry.addPlaylist(playlistUrl);
  if (parsed.value.kind === 'master') {
    for (const v of parsed.value.variants) deps.registry.addPlaylist(v);
    return;
  }
  // One swarm per rendition: the media playlist's normalized URL.
  const swarm = normalizeUrl(url, undefined, { ignoreQuery: deps.cfg.ignoreQuery }) ?? playlistUrl;
  // Only live playlists form swarms for now; VOD segments are not intercepted at all.
  if (!parsed.value.live) return;
  const segs: PlaylistSegment[] = [];
  for (const s of parsed.value.segments) {
    // Byte-range sub-segments are passed through to the origin (Range support comes with the Range/206 work).
    if (s.range !== undefined) continue;
    const id = normalizeUrl(s.url, undefined, { ignoreQuery: deps.cfg.ignoreQuery }) ?? s.id;
    deps.registry.addSegment({ ...s, id, swarm });
    const sha256 = control.hashes.get(s.url);
    segs.push({ id, url: s.url, seq: s.seq, durationSec: s.durationSec, ...(sha256 ? { sha256 } : {}) });
  }
  const client = await deps.link.pick(clientId);
  if (!client) return;
  deps.link.tell(client, {
    type: 'rc-playlist',
    swarm,
    targetDurationSec: parsed.value.targetDurationSec,
    live: parsed.value.live,
    integrity: control.integrity,
    segments: segs.slice(-PLAYLIST_SEGMENTS_TO_PAGE),
  });
}

/** Peer copy if the page finds one in time, the origin otherwise. Never rejects because of relaycast. */
export async function handleSegment(deps: WorkerDeps, event: FetchEvent, seg: KnownSegment): Promise<Response> {
  let client: Client | undefined;
  try {
    client = await deps.link.pick(event.clientId);
    if (client) {
      const answer = await deps.link.ask(
        client,
        { swarm: seg.swarm, id: seg.id, seq: seg.seq, maxWaitMs: deps.cfg.maxPeerWaitMs },
        deps.cfg.maxPeerWaitMs + deps.cfg.pageReplySlackMs,
        event.request.signal,
      );
      if (answer.hit) {
        return new Response(answer.bytes, {
          status: 200,
          headers: { 'Content-Type': contentType(seg.url), 'Content-Length': String(answer.bytes.byteLength) },
        });
      }
    }
  } catch {
    // Any failure on the peer path falls back to the origin below.
  }
  const resp = await deps.fetch(event.request);
  if (client && resp.status === 200) {
    const c = client;
    event.waitUntil(
      resp
        .clone()
        .arrayBuffer()
        .then((bytes) => {
          if (bytes.byteLength > 0 && bytes.byteLength <= LIMITS.segmentBytes) {
            deps.link.tell(c, { type: 'rc-fetched', swarm: seg.swarm, id: seg.id, seq: seg.seq, bytes });
          }
        })
        .catch(() => undefined),
    );
  }
  return resp;
}

/** The page asks the worker to fetch a known segment from the origin (it was chosen to fetch it for the swarm). */
export async function originFetch(deps: WorkerDeps, reqId: number, url: string): Promise<{ reply: OriginReply; transfer: Transferable[] }> {
  const known = deps.registry.segment(url);
  if (!known) return { reply: { type: 'rc-origin-failed', reqId, reason: 'unknown segment' }, transfer: [] };
  try {
    const resp = await deps.fetch(known.url, { credentials: 'same-origin' });
    if (resp.status !== 200) return { reply: { type: 'rc-origin-failed', reqId, reason: `HTTP ${resp.status}` }, transfer: [] };
    const bytes = await resp.arrayBuffer();
    if (bytes.byteLength === 0 || bytes.byteLength > LIMITS.segmentBytes) {
      return { reply: { type: 'rc-origin-failed', reqId, reason: 'bad size' }, transfer: [] };
    }
    return { reply: { type: 'rc-origin-bytes', reqId, bytes }, transfer: [bytes] };
  } catch (e) {
    return { reply: { type: 'rc-origin-failed', reqId, reason: String(e) }, transfer: [] };
  }
}
