/// <reference lib="webworker" />
// The relaycast service worker: a classic script built by esbuild.
// It intercepts only playlists and the segments it learned from them; every
// other request of the site is left alone (no respondWith).
import { normalizeUrl } from '../protocol/segment-id.js';
import { parsePageToWorker } from '../protocol/worker.js';
import { readWorkerConfig } from './config.js';
import { workerMemo, type WorkerDeps } from './deps.js';
import { handlePlaylist, handleSegment, learnSeen, originFetch, refreshSwarm } from './handlers.js';
import { PageLink } from './page-link.js';
import { Registry, type KnownSegment } from './registry.js';
import { Activity } from './activity.js';
import { parseRangeHeader } from './ranges.js';

declare const self: ServiceWorkerGlobalScope;

// Registered as our own worker, options come in the script URL's query. A site's own worker that
// imports this script (importScripts) sets self.relaycastConfig first and owns the lifecycle
// (docs/integration/site-worker.md).
const siteConfig = (self as unknown as { relaycastConfig?: unknown }).relaycastConfig;
const imported = siteConfig !== undefined;
const cfg = readWorkerConfig(self.location.href, siteConfig);
const deps: WorkerDeps = {
  cfg,
  registry: new Registry(cfg.maxKnownSegments),
  activity: new Activity(() => Date.now()),
  now: () => Date.now(),
  link: new PageLink(self.clients, cfg.meshHelloTtlMs),
  fetch: (req, init) => fetch(req, init),
  state: { p2p: 'on' },
  // Imported into a site's worker, 'unregister' must not remove the site's worker: it acts as 'off'.
  unregister: () => (imported ? Promise.resolve() : self.registration.unregister()),
  memo: workerMemo(),
};

/** Chromium's static routing (InstallEvent.addRoutes, Chrome 123+); absent elsewhere. */
interface RoutingInstallEvent extends ExtendableEvent {
  addRoutes?(rules: readonly { condition: { urlPattern: unknown }; source: 'network' }[]): Promise<void>;
}

/**
 * relaycast's own endpoints (tracker, hashes, stats, next to this script) go straight to the
 * network without waking this worker: a page announces and fetches hashes about once a second,
 * and each fetch event costs CPU in the browser, the worker and the page on a busy machine.
 */
function routeOwnEndpoints(e: RoutingInstallEvent): void {
  const Pattern = (globalThis as { URLPattern?: new (init: { pathname: string }) => unknown }).URLPattern;
  if (!e.addRoutes || !Pattern) return;
  const dir = new URL('./', self.location.href).pathname;
  try {
    e.waitUntil(e.addRoutes([{ condition: { urlPattern: new Pattern({ pathname: `${dir}*` }) }, source: 'network' }]).catch(() => undefined));
  } catch {
    // Not supported as called: every request keeps going through the fetch listener, as before.
  }
}

if (!imported) {
  // Take control at once: the first page load is not controlled until clients.claim().
  self.addEventListener('install', (e) => {
    routeOwnEndpoints(e);
    e.waitUntil(self.skipWaiting());
  });
  self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
}

self.addEventListener('message', (e: ExtendableMessageEvent) => {
  const m = parsePageToWorker(e.data);
  if (!m.ok) return;
  const source = e.source;
  if (m.value.type === 'rc-mesh') {
    if (source && 'id' in source) deps.link.hello(source.id);
    return;
  }
  if (m.value.type === 'rc-learn') {
    if (source && 'id' in source) e.waitUntil(learnSeen(deps, m.value.urls, source.id));
    return;
  }
  if (m.value.type === 'rc-refresh') {
    if (source && 'id' in source) e.waitUntil(refreshSwarm(deps, m.value.swarm, source.id));
    return;
  }
  const port = e.ports[0];
  if (!port) return;
  const { reqId, url, range, part } = m.value;
  e.waitUntil(originFetch(deps, reqId, url, range, part).then(({ reply, transfer }) => port.postMessage(reply, transfer)));
});

type Claim = { kind: 'segment'; seg: KnownSegment } | { kind: 'manifest' } | undefined;

/** What relaycast would answer: a learned segment, or a manifest to learn from. Anything else is not ours. */
function claim(req: Request): Claim {
  // After an operator's 'unregister', this worker stays until pages navigate away: it touches nothing.
  if (req.method !== 'GET' || deps.state.p2p === 'unregister') return undefined;
  // A closed byte range is a segment when a manifest listed that range; any other range passes through.
  const range = parseRangeHeader(req.headers.get('range'));
  if (range === 'other') return undefined;
  const url = normalizeUrl(req.url, undefined);
  if (url === undefined) return undefined;
  const seg = deps.registry.segment(url, range);
  if (seg) return { kind: 'segment', seg };
  return range === undefined && deps.registry.isPlaylist(url) ? { kind: 'manifest' } : undefined;
}

self.addEventListener('fetch', (event: FetchEvent) => {
  const c = claim(event.request);
  if (c?.kind === 'segment') event.respondWith(handleSegment(deps, event, c.seg));
  else if (c?.kind === 'manifest') event.respondWith(handlePlaylist(deps, event.request, event.clientId));
});

/**
 * For a site worker that imported this script: `self.relaycast.handles(request)` says whether
 * relaycast's fetch listener (registered first) answers it, so the site's own listener skips it.
 */
(self as unknown as { relaycast: { handles(req: Request): boolean } }).relaycast = {
  handles: (req) => claim(req) !== undefined,
};
