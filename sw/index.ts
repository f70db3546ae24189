/// <reference lib="webworker" />
// The relaycast service worker: a classic script built by esbuild.
// It intercepts only playlists and the segments it learned from them; every
// other request of the site is left alone (no respondWith).
import { normalizeUrl } from '../protocol/segment-id.js';
import { parsePageToWorker } from '../protocol/worker.js';
import { readWorkerConfig } from './config.js';
import { handlePlaylist, handleSegment, learnSeen, originFetch, type WorkerDeps } from './handlers.js';
import { PageLink } from './page-link.js';
import { Registry } from './registry.js';
import { Activity } from './activity.js';
import { parseRangeHeader } from './ranges.js';

declare const self: ServiceWorkerGlobalScope;

const cfg = readWorkerConfig(self.location.href);
const deps: WorkerDeps = {
  cfg,
  registry: new Registry(cfg.maxKnownSegments),
  activity: new Activity(() => Date.now()),
  now: () => Date.now(),
  link: new PageLink(self.clients, cfg.meshHelloTtlMs),
  fetch: (req, init) => fetch(req, init),
  state: { p2p: 'on' },
  unregister: () => self.registration.unregister(),
};

// Take control at once: the first page load is not controlled until clients.claim().
self.addEventListener('install', (e) => e.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

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
  const port = e.ports[0];
  if (!port) return;
  const { reqId, url, range } = m.value;
  e.waitUntil(originFetch(deps, reqId, url, range).then(({ reply, transfer }) => port.postMessage(reply, transfer)));
});

self.addEventListener('fetch', (event: FetchEvent) => {
  const req = event.request;
  // After an operator's 'unregister', this worker stays until pages navigate away: it touches nothing.
  if (req.method !== 'GET' || deps.state.p2p === 'unregister') return;
  // A closed byte range is a segment when a manifest listed that range; any other range passes through.
  const range = parseRangeHeader(req.headers.get('range'));
  if (range === 'other') return;
  const url = normalizeUrl(req.url, undefined);
  if (url === undefined) return;
  const seg = deps.registry.segment(url, range);
  if (seg) {
    event.respondWith(handleSegment(deps, event, seg));
    return;
  }
  if (range === undefined && deps.registry.isPlaylist(url)) {
    event.respondWith(handlePlaylist(deps, req, event.clientId));
  }
});
