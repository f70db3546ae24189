/** The request router: one plain node:http handler; express only inside the signaling mount. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdapterOptions } from './config.js';
import type { AssetRoutes } from './assets.js';
import { sendJson, sendText } from './http-util.js';
import { isAcceptablePlayerSrc } from './paths.js';
import { renderPlayerPage, renderWatchUsage } from './player-page.js';
import type { Signaling } from './signaling.js';
import type { AdapterStats } from './stats.js';
import { handleTracker, TRACKER_PATH } from './tracker-route.js';
import type { Tracker } from './tracker.js';

type Route = (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<boolean>;

export interface RouterParts {
  readonly options: Pick<AdapterOptions, 'streamName' | 'log' | 'upstream'>;
  readonly assets: AssetRoutes;
  readonly stats: () => AdapterStats;
  /** Present only when signaling is on. */
  readonly signaling: Signaling | undefined;
  readonly tracker: Tracker | undefined;
  /** Present only with the embedded source. */
  readonly live: Route | undefined;
  readonly proxy: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-cache',
  });
  res.end(res.req.method === 'HEAD' ? undefined : html);
}

function watch(res: ServerResponse, url: URL, parts: RouterParts): boolean {
  const relaycast = url.searchParams.get('relaycast') !== '0';
  const stream = parts.options.streamName;
  if (url.pathname === `/watch/${stream}` && parts.live !== undefined) {
    sendHtml(res, 200, renderPlayerPage({ src: `/live/${stream}/master.m3u8`, title: `${stream} · relaycast`, relaycast }));
    return true;
  }
  if (url.pathname !== '/watch') return false;
  const src = url.searchParams.get('src');
  if (src === null || !isAcceptablePlayerSrc(src)) {
    sendHtml(res, 400, renderWatchUsage(src === null ? 'missing ?src=' : 'src must be a path starting with / or an http(s) URL'));
    return true;
  }
  sendHtml(res, 200, renderPlayerPage({ src, title: 'relaycast player', relaycast }));
  return true;
}

async function route(req: IncomingMessage, res: ServerResponse, parts: RouterParts): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const path = url.pathname;
  const get = req.method === 'GET' || req.method === 'HEAD';
  if (parts.signaling?.handle(req, res, path)) return;
  if (path === TRACKER_PATH && parts.tracker !== undefined) return handleTracker(req, res, parts.tracker);
  if (path === '/relaycast/stats' && get) return sendJson(res, 200, parts.stats(), { 'Access-Control-Allow-Origin': '*' });
  if (path.startsWith('/relaycast/')) {
    if (get && (await parts.assets.handle(req, res, path))) return;
    return sendText(res, 404, 'not found\n');
  }
  if (get && (path === '/watch' || path.startsWith('/watch/')) && watch(res, url, parts)) return;
  if (get && parts.live !== undefined) {
    if (path === '/' && parts.proxy === undefined) {
      res.writeHead(302, { Location: `/watch/${parts.options.streamName}`, 'Content-Length': '0' });
      res.end();
      return;
    }
    if (await parts.live(req, res, path)) return;
  }
  if (parts.proxy !== undefined && path !== '/watch' && !path.startsWith('/watch/')) return parts.proxy(req, res);
  sendText(res, 404, 'not found\n');
}

export function createRequestHandler(parts: RouterParts) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res, parts).catch((e: unknown) => {
      parts.options.log(`error on ${req.method ?? '?'} ${req.url ?? '?'}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
      else res.destroy();
    });
  };
}
