/**
 * Reverse proxy to an existing origin: streaming, GET/HEAD only, Range passed
 * through, redirects passed through unchanged, hop-by-hop headers dropped.
 * Manifests are read on their way through: the segments they list are hashed by
 * the adapter's own canonical fetch (upstream-hasher.ts), and the hashes known so
 * far ride on the manifest in X-Relaycast-Hashes.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ADAPTER_LIMITS } from './config.js';
import { sendText } from './http-util.js';
import { mediaKind } from './paths.js';
import type { OriginCounters } from './stats.js';
import { playlistControlHeaders, type P2PMode } from './control.js';
import { hashEntry, type HashRegistry } from './integrity.js';
import { listedSegments } from './manifest-segments.js';
import type { UpstreamHasher } from './upstream-hasher.js';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'host',
]);

/** Hashes on one manifest answer: the newest segments of each rendition, as the embedded source does. */
const HASHES_PER_RENDITION = 8;

/** Copies headers minus hop-by-hop ones, including those the Connection header names. */
export function endToEndHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const named = new Set(
    String(h.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== ''),
  );
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/** Upstream URL for a request path: the upstream's base path joined with the request path and query. */
export function upstreamUrl(upstream: string, reqUrl: string): URL {
  const base = new URL(upstream);
  const req = new URL(reqUrl, 'http://local');
  const target = new URL(base.href);
  target.pathname = base.pathname.replace(/\/+$/, '') + req.pathname;
  target.search = req.search;
  return target;
}

export interface ProxyConfig {
  readonly upstream: string;
  readonly counters: OriginCounters;
  readonly timeoutMs?: number;
  readonly hashes: HashRegistry;
  readonly hasher: UpstreamHasher;
  readonly p2pMode: () => P2PMode;
  readonly nowMs?: () => number;
}

/** The page-facing origin a manifest was requested on; only URIs on it are segments pages fetch through us. */
const PAGE_BASE = 'http://adapter.invalid';

function pageBase(req: IncomingMessage): string {
  const host = req.headers.host;
  return host !== undefined && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? `http://${host}` : PAGE_BASE;
}

/**
 * Registers the segments a manifest lists with the hasher and returns the X-Relaycast-Hashes
 * value for those already hashed. A listed URI counts when it is on the origin the page
 * requested the manifest from (relative, or absolute with that host): the page fetches it
 * through this proxy, so its canonical fetch is the proxy's upstream URL for it, query as listed.
 */
function readManifest(cfg: ProxyConfig, req: IncomingMessage, text: string): string {
  const base = new URL(req.url ?? '/', pageBase(req));
  const entries: string[] = [];
  for (const group of listedSegments(text, base.href, (cfg.nowMs ?? Date.now)())) {
    const segs: { path: string; upstream: URL; uri: string }[] = [];
    for (const raw of group.urls) {
      const u = new URL(raw);
      if (u.host !== base.host || mediaKind(u.pathname) !== 'segment') continue;
      const uri = u.pathname + u.search;
      segs.push({ path: u.pathname, upstream: upstreamUrl(cfg.upstream, uri), uri });
    }
    cfg.hasher.listed(segs, group.live);
    for (const s of segs.slice(-HASHES_PER_RENDITION)) {
      const h = cfg.hashes.get(s.path);
      // The header is a comma-separated list: a URI with a comma cannot be named in it.
      if (h !== undefined && !s.uri.includes(',')) entries.push(hashEntry(s.uri, h));
    }
  }
  return entries.join(',');
}

export function createProxy(cfg: ProxyConfig) {
  return function proxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return Promise.resolve();
    }
    const target = upstreamUrl(cfg.upstream, req.url ?? '/');
    const kind = mediaKind(target.pathname);
    const onBytes = cfg.counters.request(kind);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const readsManifest = kind === 'playlist' && req.method === 'GET';
    const headers = { ...endToEndHeaders(req.headers), host: target.host, ...(readsManifest ? { 'accept-encoding': 'identity' } : {}) };
    return new Promise<void>((resolve) => {
      const upReq = send(target, { method: req.method, headers });
      upReq.setTimeout(cfg.timeoutMs ?? ADAPTER_LIMITS.upstreamTimeoutMs, () => upReq.destroy(new Error('upstream timeout')));
      // A client that goes away must not keep the upstream transfer running.
      res.on('close', () => {
        if (!res.writableFinished) upReq.destroy();
        resolve();
      });
      upReq.on('error', (e) => {
        if (!res.headersSent) sendText(res, 502, `bad gateway: ${e.message}\n`);
        else res.destroy();
        resolve();
      });
      upReq.on('response', (upRes) => {
        const status = upRes.statusCode ?? 502;
        const out = endToEndHeaders(upRes.headers);
        // Only this adapter speaks for relaycast: an upstream's own x-relaycast-* headers are dropped.
        for (const k of Object.keys(out)) if (k.startsWith('x-relaycast-')) delete out[k];
        const encoding = String(upRes.headers['content-encoding'] ?? 'identity').toLowerCase();
        if (readsManifest && status === 200 && encoding === 'identity') {
          void manifestAnswer(upRes, out).then(resolve);
          return;
        }
        const extra = kind === 'playlist' && status === 200 ? playlistControlHeaders(cfg.p2pMode()) : {};
        res.writeHead(status, upRes.statusMessage, { ...out, ...extra });
        const count = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            onBytes?.(chunk.length);
            cb(null, chunk);
          },
        });
        pipeline(upRes, count, res).then(resolve, () => {
          res.destroy();
          upReq.destroy();
          resolve();
        });
      });
      upReq.end();
    });

    /** A 200 manifest: read whole (up to playlistBytes), its segments registered, sent with the hashes known. */
    async function manifestAnswer(upRes: IncomingMessage, out: Record<string, string | string[]>): Promise<void> {
      const chunks: Buffer[] = [];
      const read = await new Promise<'whole' | 'large' | 'failed'>((done) => {
        let size = 0;
        const onData = (c: Buffer): void => {
          size += c.length;
          chunks.push(c);
          if (size > ADAPTER_LIMITS.playlistBytes) {
            upRes.pause();
            upRes.off('data', onData);
            done('large');
          }
        };
        upRes.on('data', onData);
        upRes.once('end', () => done('whole'));
        upRes.once('error', () => done('failed'));
        upRes.once('close', () => done(upRes.complete ? 'whole' : 'failed'));
      });
      if (read === 'failed') {
        res.destroy();
        return;
      }
      if (read === 'large') {
        // Too large to read: passed on as it is, without hashes.
        res.writeHead(200, upRes.statusMessage, { ...out, ...playlistControlHeaders(cfg.p2pMode()) });
        for (const c of chunks) res.write(c);
        await pipeline(upRes, res).catch(() => res.destroy());
        return;
      }
      const body = Buffer.concat(chunks);
      let hashes = '';
      try {
        hashes = readManifest(cfg, req, body.toString('utf8'));
      } catch {
        // A manifest we cannot read is still the upstream's answer: passed on without hashes.
      }
      delete out['content-length'];
      res.writeHead(200, upRes.statusMessage, { ...out, ...playlistControlHeaders(cfg.p2pMode(), hashes), 'content-length': String(body.length) });
      res.end(body);
    }
  };
}
