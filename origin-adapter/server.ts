/** The request router: one plain node:http handler; express only inside the signaling mount. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdapterOptions } from './config.js';
import type { AssetRoutes } from './assets.js';
import { sendJson, sendText } from './http-util.js';
import { isAcceptablePlayerSrc } from './paths.js';
import { isPlayerName, PLAYER_PROTOCOLS, PLAYERS, renderPlayerPage, renderWatchUsage, type PlayerName, type StreamProtocol } from './player-page.js';
import { MANIFESTS } from './ffmpeg-args.js';
import type { Signaling } from './signaling.js';
import { adminStats, publicStats, type AdapterStats } from './stats.js';
import { handleTracker, TRACKER_PATH, type Announce } from './tracker-route.js';
import { P2P_MODES, type P2PMode } from './control.js';
import { hashKey, lookupHash, parseHashRange, type HashRegistry } from './integrity.js';
import type { MediaRoutes } from './live-routes.js';
import type { UpstreamHasher } from './upstream-hasher.js';
import { readBody } from './http-util.js';
import { RateLimiter } from './rate-limit.js';
import { clientAddress } from './client-address.js';
import { timingSafeEqual } from 'node:crypto';
import { iceAnswer } from './ice.js';
import { renderBroadcastPage } from './broadcast-page.js';
import type { BroadcastAnswer } from './broadcast-status.js';

export interface RouterParts {
  readonly options: Pick<AdapterOptions, 'streamName' | 'log' | 'upstream' | 'trustProxy' | 'player' | 'stunUrls' | 'turnUrls' | 'turnSecret' | 'turnTtlSec'>;
  readonly assets: AssetRoutes;
  readonly stats: () => AdapterStats;
  /** Present only when signaling is on. */
  readonly signaling: Signaling | undefined;
  /** The tracker's announce (present only when signaling is on). */
  readonly announce: Announce | undefined;
  /** Present only with an embedded source (live and/or VOD). */
  readonly media: MediaRoutes | undefined;
  readonly proxy: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  readonly hashes: HashRegistry;
  /** --upstream mode: segments listed by proxied manifests, hashed by the adapter's own fetch. */
  readonly upstreamHasher: UpstreamHasher | undefined;
  /** False during a signaling/tracker outage. */
  readonly signalingUp: () => boolean;
  /** The stream's on-air state and viewers (/relaycast/broadcast); undefined without a stream of its own. */
  readonly broadcast: (() => BroadcastAnswer) | undefined;
  readonly admin: { readonly token: string | undefined; readonly setP2P: (mode: P2PMode) => void };
  /** Tracker and hash lookups per client address (one limiter per adapter). */
  readonly perAddress: RateLimiter;
}

const OPEN_CORS = { 'Access-Control-Allow-Origin': '*' };

/**
 * Tracker announces and hash lookups per client address. A page announces every few
 * seconds per swarm and looks up a hash only when a playlist did not carry it; many
 * viewers may share one address (NAT), hence the generous numbers.
 */
export const RATE_BURST = 200;
export const RATE_PER_SEC = 50;

function limited(req: IncomingMessage, res: ServerResponse, parts: RouterParts): boolean {
  if (parts.perAddress.allow(clientAddress(req, parts.options.trustProxy))) return false;
  sendJson(res, 429, { error: 'too many requests' }, { ...OPEN_CORS, 'Retry-After': '1' });
  return true;
}

/** A lookup of a listed upstream segment not hashed yet waits this long for the adapter's fetch (pages give up after 3 s). */
const UPSTREAM_HASH_WAIT_MS = 2500;

/**
 * GET /relaycast/hash?path=/live/demo/chunk-e0-0-000041.m4s[&range=800-52346][&list=1]
 *   -> {"sha256": "<base64url>", "pieceRoot": "<base64url>", "bytes": 123456[, "list": "<base64url>"]}
 * Embedded sources' files (and byte ranges of them) are hashed on demand; proxied ones by the
 * adapter's own fetch of what a manifest listed (upstream-hasher.ts). `list=1` adds the hash
 * list (the leaves the piece root covers), which a stripe head needs before any peer has it.
 */
async function hashRoute(res: ServerResponse, url: URL, parts: RouterParts): Promise<void> {
  const raw = url.searchParams.get('path') ?? '';
  let path: string;
  try {
    path = new URL(raw, 'http://local').pathname;
  } catch {
    return sendJson(res, 400, { error: 'bad path' }, OPEN_CORS);
  }
  if (!raw.startsWith('/') || raw.length > 2048) return sendJson(res, 400, { error: 'path must start with /' }, OPEN_CORS);
  const range = parseHashRange(url.searchParams.get('range'));
  if (range === 'bad') return sendJson(res, 400, { error: 'range must be start-end' }, OPEN_CORS);
  const withList = url.searchParams.get('list') === '1';
  const h =
    (await lookupHash(parts.hashes, (f) => parts.media?.fileFor(f), path, range, withList)) ??
    (range === undefined ? await parts.upstreamHasher?.ensure(path, UPSTREAM_HASH_WAIT_MS) : undefined);
  if (h === undefined) return sendJson(res, 404, { error: 'no hash for that segment' }, { ...OPEN_CORS, 'Cache-Control': 'no-store' });
  const list = withList ? parts.hashes.list(hashKey(path, range)) : undefined;
  const body = { sha256: h.sha256, pieceRoot: h.pieceRoot, ...(h.bytes === undefined ? {} : { bytes: h.bytes }), ...(list === undefined ? {} : { list: list.toString('base64url') }) };
  sendJson(res, 200, body, { ...OPEN_CORS, 'Cache-Control': 'max-age=3600' });
}

/**
 * GET /relaycast/stats: counts for anyone (CORS open); with `Authorization: Bearer <adminToken>`
 * also the largest swarms (query strings redacted) and the signaling counters.
 */
function statsRoute(req: IncomingMessage, res: ServerResponse, parts: RouterParts): void {
  const token = parts.admin.token;
  const s = parts.stats();
  if (token === undefined || !tokenMatches(req.headers.authorization, token)) return sendJson(res, 200, publicStats(s), OPEN_CORS);
  sendJson(res, 200, adminStats(s, { hashes: parts.hashes.size, ...(parts.signaling ? { signaling: parts.signaling.stats() } : {}) }));
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const a = Buffer.from(header ?? '');
  const b = Buffer.from(`Bearer ${token}`);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** POST /relaycast/admin/p2p  body: on | off | unregister  (Authorization: Bearer <adminToken>) */
async function adminRoute(req: IncomingMessage, res: ServerResponse, parts: RouterParts): Promise<void> {
  const token = parts.admin.token;
  if (token === undefined) return sendJson(res, 404, { error: 'admin endpoint disabled (start with --admin-token)' });
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' }, { Allow: 'POST' });
  if (!tokenMatches(req.headers.authorization, token)) return sendJson(res, 401, { error: 'bad token' });
  const body = await readBody(req, 64);
  const mode = body.ok ? P2P_MODES.find((m) => m === body.body.toString('utf8').trim()) : undefined;
  if (mode === undefined) return sendJson(res, 400, { error: 'body must be on, off or unregister' });
  parts.admin.setP2P(mode);
  sendJson(res, 200, { p2p: mode });
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-cache',
  });
  res.end(res.req.method === 'HEAD' ? undefined : html);
}

type WatchChoice = { player: PlayerName; protocol: StreamProtocol } | { error: string };

/** ?player= and ?protocol= (defaults: the adapter's --player, then the player's first protocol). */
function chooseWatch(url: URL, defaultPlayer: PlayerName): WatchChoice {
  const p = url.searchParams.get('player') ?? defaultPlayer;
  if (!isPlayerName(p)) return { error: `player must be one of ${PLAYERS.join(', ')}` };
  const supported = PLAYER_PROTOCOLS[p];
  const proto = url.searchParams.get('protocol') ?? supported[0];
  const protocol = supported.find((x) => x === proto);
  if (protocol === undefined) return { error: `${p} plays ${supported.join(' or ')}, not ${String(proto)}` };
  return { player: p, protocol };
}

function watch(res: ServerResponse, url: URL, parts: RouterParts): boolean {
  const relaycast = url.searchParams.get('relaycast') !== '0';
  const stream = parts.options.streamName;
  const isStreamPage = url.pathname === `/watch/${stream}` && parts.media !== undefined;
  if (!isStreamPage && url.pathname !== '/watch') return false;
  const choice = chooseWatch(url, parts.options.player);
  if ('error' in choice) {
    sendHtml(res, 400, renderWatchUsage(choice.error));
    return true;
  }
  if (isStreamPage) {
    const kind = url.searchParams.get('vod') === '1' ? 'vod' : 'live';
    const manifest = choice.protocol === 'dash' ? MANIFESTS.dash : MANIFESTS.hls;
    const src = `/${kind}/${stream}/${manifest}`;
    const status = parts.broadcast?.();
    // The VOD asset is always there; the live stream's page follows its on-air state.
    const html = status !== undefined && kind === 'live' ? renderBroadcastPage({ src, relaycast, status, ...choice }) : renderPlayerPage({ src, title: `${stream} · relaycast`, relaycast, ...choice });
    sendHtml(res, 200, html);
    return true;
  }
  const src = url.searchParams.get('src');
  if (src === null || !isAcceptablePlayerSrc(src)) {
    sendHtml(res, 400, renderWatchUsage(src === null ? 'missing ?src=' : 'src must be a path starting with / or an http(s) URL'));
    return true;
  }
  sendHtml(res, 200, renderPlayerPage({ src, title: 'relaycast player', relaycast, ...choice }));
  return true;
}

async function route(req: IncomingMessage, res: ServerResponse, parts: RouterParts): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const path = url.pathname;
  const get = req.method === 'GET' || req.method === 'HEAD';
  if (parts.signaling?.handle(req, res, path)) return;
  if (path === TRACKER_PATH && parts.announce !== undefined) {
    if (!parts.signalingUp()) return sendJson(res, 503, { error: 'tracker suspended' }, { ...OPEN_CORS, 'Retry-After': '5' });
    if (limited(req, res, parts)) return;
    return handleTracker(req, res, parts.announce, parts.signaling, clientAddress(req, parts.options.trustProxy));
  }
  if (path === '/relaycast/hash' && get) return limited(req, res, parts) ? undefined : hashRoute(res, url, parts);
  if (path === '/relaycast/admin/p2p') return adminRoute(req, res, parts);
  // STUN/TURN for pages, with a TURN credential of its own for each request (ice.ts).
  if (path === '/relaycast/ice' && get) {
    if (limited(req, res, parts)) return;
    return sendJson(res, 200, iceAnswer(parts.options, Date.now()), { ...OPEN_CORS, 'Cache-Control': 'no-store' });
  }
  if (path === '/relaycast/stats' && get) return statsRoute(req, res, parts);
  if (path === '/relaycast/broadcast' && get) {
    const b = parts.broadcast?.();
    return b === undefined ? sendJson(res, 404, { error: 'no stream of its own (proxy mode)' }, OPEN_CORS) : sendJson(res, 200, b, OPEN_CORS);
  }
  if (path.startsWith('/relaycast/')) {
    if (get && (await parts.assets.handle(req, res, path))) return;
    return sendText(res, 404, 'not found\n');
  }
  if (get && (path === '/watch' || path.startsWith('/watch/')) && watch(res, url, parts)) return;
  if (get && parts.media !== undefined) {
    if (path === '/' && parts.proxy === undefined) {
      res.writeHead(302, { Location: `/watch/${parts.options.streamName}`, 'Content-Length': '0' });
      res.end();
      return;
    }
    if (await parts.media.handle(req, res, path)) return;
  }
  if (parts.proxy !== undefined && path !== '/watch' && !path.startsWith('/watch/')) return parts.proxy(req, res);
  sendText(res, 404, 'not found\n');
}

/** `perAddress`: the tracker and hash lookups' limiter, when it is shared with other nodes (cluster/rate-share.ts). */
export function createRequestHandler(input: Omit<RouterParts, 'perAddress'> & { readonly perAddress?: RateLimiter }) {
  const parts: RouterParts = { ...input, perAddress: input.perAddress ?? new RateLimiter(RATE_BURST, RATE_PER_SEC) };
  return (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res, parts).catch((e: unknown) => {
      parts.options.log(`error on ${req.method ?? '?'} ${req.url ?? '?'}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
      else res.destroy();
    });
  };
}
