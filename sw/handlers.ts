/// <reference lib="webworker" />
import { LIMITS } from '../protocol/limits.js';
import { normalizeUrl } from '../protocol/segment-id.js';
import { putBounded } from '../protocol/bounded.js';
import type { ByteRange } from '../protocol/segment-id.js';
import type { OriginReply } from '../protocol/worker.js';
import { readControl, type P2PMode } from './control.js';
import type { WorkerDeps } from './deps.js';
import { learn, playlistUpdate, VOD_WINDOW } from './learn.js';
import { contentRange, parseContentRangeTotal } from './ranges.js';
import type { KnownSegment } from './registry.js';

export type { WorkerDeps } from './deps.js';

/** Live: when a swarm comes into use, the page gets this many of its newest segments at once. */
const LIVE_TAIL_ON_JOIN = 8;


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
 * Passes a manifest (HLS playlist or DASH MPD) through unchanged and learns
 * its segments before the player sees it, so the player's next segment
 * request is already known.
 */
export async function handlePlaylist(deps: WorkerDeps, request: Request, clientId: string): Promise<Response> {
  const resp = await deps.fetch(request);
  const read = await absorb(deps, resp, request.url, clientId);
  // Keep redirected and non-OK answers byte-for-byte the origin's (players resolve URIs against the final URL).
  if (read === undefined) return resp;
  read.learned.catch(() => undefined);
  return new Response(read.text, { status: resp.status, statusText: resp.statusText, headers: resp.headers });
}

/**
 * Reads a manifest answer, whoever fetched it: the kill switch it carries, then (P2P on) its
 * segments. Undefined for a redirected or non-200 answer, which is left untouched.
 */
async function absorb(deps: WorkerDeps, resp: Response, url: string, clientId: string): Promise<{ text: string; learned: Promise<void> } | undefined> {
  if (resp.status !== 200 || resp.redirected) return undefined;
  const text = await resp.text();
  const control = readControl(resp.headers, url);
  if (mayControl(deps, url)) applyKillSwitch(deps, control.p2p);
  return { text, learned: deps.state.p2p === 'on' ? learn(deps, text, url, clientId, control) : Promise.resolve() };
}

/** A reported manifest that could not be learned is not fetched again for this long. */
const RETRY_UNLEARNABLE_MS = 60_000;

/**
 * Manifests the page loaded that this worker has not read: fetched before the
 * worker controlled the page, or read by a worker that was stopped since. A VOD
 * manifest is fetched once by the player, so without this its segments would
 * never be known. The fetch usually comes from the HTTP cache.
 */
export async function learnSeen(deps: WorkerDeps, urls: readonly string[], clientId: string): Promise<void> {
  if (deps.state.p2p !== 'on') return;
  const { learning, unlearnable } = deps.memo;
  for (const raw of urls) {
    const url = normalizeUrl(raw, undefined);
    if (url === undefined || deps.registry.isLearned(url) || learning.has(url)) continue;
    const failedAt = unlearnable.get(url);
    if (failedAt !== undefined && deps.now() - failedAt < RETRY_UNLEARNABLE_MS) continue;
    learning.add(url);
    putBounded(unlearnable, url, deps.now(), 64); // cleared below once learned
    try {
      await (await absorb(deps, await deps.fetch(url, { credentials: 'same-origin' }), url, clientId))?.learned;
      if (deps.registry.isLearned(url)) unlearnable.delete(url);
    } catch {
      // The page's player has the manifest; the worker just does not help with it.
    } finally {
      learning.delete(url);
    }
  }
}

/** A manifest is read again for pages at most this often. */
const MIN_REFRESH_MS = 500;

/**
 * A page is told by a peer that its live swarm has a new segment, which the page is to fetch
 * for the swarm: read the swarm's manifest now (not from the HTTP cache), so the page learns
 * the segment before its player's next refresh. Bounded per manifest.
 */
export async function refreshSwarm(deps: WorkerDeps, swarm: string, clientId: string): Promise<void> {
  if (deps.state.p2p !== 'on') return;
  const meta = deps.registry.meta(swarm);
  if (!meta?.live) return;
  const url = meta.manifestUrl;
  const { refreshed } = deps.memo;
  const last = refreshed.get(url);
  if (last !== undefined && deps.now() - last < MIN_REFRESH_MS) return;
  putBounded(refreshed, url, deps.now(), 64);
  try {
    await (await absorb(deps, await deps.fetch(url, { credentials: 'same-origin', cache: 'no-cache' }), url, clientId))?.learned;
  } catch {
    // The player's own refresh comes anyway.
  }
}

/**
 * The kill switch reaches every tab of this worker, so only the site's own manifests (or those
 * of an origin the site configured) may set it; a manifest of another origin the page happens
 * to load (an embed, a third-party stream) cannot switch P2P off or on for all of them.
 */
function mayControl(deps: WorkerDeps, manifestUrl: string): boolean {
  try {
    return deps.cfg.controlOrigins.includes(new URL(manifestUrl).origin);
  } catch {
    return false;
  }
}

/** 'off': stop intercepting segments at once; 'unregister': also remove this worker for good. */
function applyKillSwitch(deps: WorkerDeps, mode: P2PMode): void {
  if (mode === deps.state.p2p) return;
  deps.state.p2p = mode;
  if (mode !== 'on') deps.registry.clearSegments();
  if (mode === 'unregister') void deps.unregister().catch(() => undefined);
}

/**
 * Before asking the page for a segment: a VOD swarm's window moves with the
 * player; a live swarm coming into use (a DASH rendition) gets its newest
 * segments, so the page can prepare the next ones.
 */
function describe(deps: WorkerDeps, client: Client, clientId: string, seg: KnownSegment): void {
  const fresh = deps.activity.touch(clientId, seg.swarm);
  const meta = deps.registry.meta(seg.swarm);
  if (!meta || (seg.live && !fresh)) return;
  const segs = seg.live ? deps.registry.tail(seg.swarm, LIVE_TAIL_ON_JOIN) : deps.registry.window(seg, VOD_WINDOW);
  deps.link.tell(client, playlistUpdate({ swarm: seg.swarm, ...meta }, segs, meta.control));
}

function peerResponse(deps: WorkerDeps, seg: KnownSegment, bytes: ArrayBuffer): Response {
  const headers: Record<string, string> = { 'Content-Type': contentType(seg.url), 'Content-Length': String(bytes.byteLength) };
  if (seg.range === undefined) return new Response(bytes, { status: 200, headers });
  // A byte range is answered as the origin would: 206 with the same Content-Range.
  headers['Content-Range'] = contentRange(seg.range, deps.registry.total(seg.url));
  return new Response(bytes, { status: 206, headers });
}

/** The origin's answer holds exactly the segment's bytes (a full 200, or the 206 of its range). */
function isWholeSegment(resp: Response, range: ByteRange | undefined): boolean {
  return range === undefined ? resp.status === 200 : resp.status === 206 && resp.headers.get('content-range')?.trim().startsWith(`bytes ${range.start}-${range.end}/`) === true;
}

function noteTotal(deps: WorkerDeps, seg: KnownSegment, resp: Response): void {
  const total = parseContentRangeTotal(resp.headers.get('content-range'));
  if (seg.range !== undefined && total !== undefined) deps.registry.setTotal(seg.url, total);
}

/** Peer copy if the page finds one in time, the origin otherwise. Never rejects because of relaycast. */
export async function handleSegment(deps: WorkerDeps, event: FetchEvent, seg: KnownSegment): Promise<Response> {
  let client: Client | undefined;
  try {
    client = await deps.link.pick(event.clientId);
    if (client) {
      describe(deps, client, event.clientId, seg);
      const answer = await deps.link.ask(
        client,
        { swarm: seg.swarm, id: seg.id, seq: seg.seq, maxWaitMs: deps.cfg.maxPeerWaitMs },
        deps.cfg.maxPeerWaitMs + deps.cfg.pageReplySlackMs,
        event.request.signal,
      );
      const expected = seg.range ? seg.range.end - seg.range.start + 1 : undefined;
      if (answer.hit && (expected === undefined || answer.bytes.byteLength === expected)) return peerResponse(deps, seg, answer.bytes);
    }
  } catch {
    // Any failure on the peer path falls back to the origin below.
  }
  const t0 = deps.now();
  const resp = await deps.fetch(event.request);
  noteTotal(deps, seg, resp);
  if (client && isWholeSegment(resp, seg.range)) {
    const c = client;
    event.waitUntil(
      resp
        .clone()
        .arrayBuffer()
        .then((bytes) => {
          if (bytes.byteLength > 0 && bytes.byteLength <= LIMITS.segmentBytes) {
            const fetchMs = Math.max(0, Math.round(deps.now() - t0));
            deps.link.tell(c, { type: 'rc-fetched', swarm: seg.swarm, id: seg.id, seq: seg.seq, bytes, fetchMs });
          }
        })
        .catch(() => undefined),
    );
  }
  return resp;
}

/**
 * The page asks the worker to fetch a known segment from the origin (it was chosen to fetch it
 * for the swarm), or `part` of it: the pieces no peer delivered before the player's deadline, as
 * one byte range. An origin that ignores Range and sends the whole file is still answered with
 * just those bytes.
 */
export async function originFetch(
  deps: WorkerDeps,
  reqId: number,
  url: string,
  range: ByteRange | undefined,
  part?: ByteRange,
): Promise<{ reply: OriginReply; transfer: Transferable[] }> {
  const failed = (reason: string): { reply: OriginReply; transfer: Transferable[] } => ({ reply: { type: 'rc-origin-failed', reqId, reason }, transfer: [] });
  const known = deps.registry.segment(url, range);
  if (!known) return failed('unknown segment');
  const base = range?.start ?? 0;
  const want = part ? { start: base + part.start, end: base + part.end } : range;
  try {
    const headers: Record<string, string> = want ? { Range: `bytes=${want.start}-${want.end}` } : {};
    const resp = await deps.fetch(known.url, { credentials: 'same-origin', headers });
    noteTotal(deps, known, resp);
    const whole = part !== undefined && range === undefined && resp.status === 200;
    if (!whole && !isWholeSegment(resp, want)) return failed(`HTTP ${resp.status}`);
    let bytes = await resp.arrayBuffer();
    if (whole && want) {
      if (bytes.byteLength <= want.end) return failed('bad size');
      bytes = bytes.slice(want.start, want.end + 1);
    }
    const expected = want ? want.end - want.start + 1 : undefined;
    if (bytes.byteLength === 0 || bytes.byteLength > LIMITS.segmentBytes || (expected !== undefined && bytes.byteLength !== expected)) return failed('bad size');
    return { reply: { type: 'rc-origin-bytes', reqId, bytes }, transfer: [bytes] };
  } catch (e) {
    return failed(String(e));
  }
}
