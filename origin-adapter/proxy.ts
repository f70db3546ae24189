/**
 * Reverse proxy to an existing origin: streaming, GET/HEAD only, Range passed
 * through, redirects passed through unchanged, hop-by-hop headers dropped.
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
import { streamHasher, type HashRegistry } from './integrity.js';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'host',
]);

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
  readonly p2pMode: () => P2PMode;
}

export function createProxy(cfg: ProxyConfig) {
  return function proxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return Promise.resolve();
    }
    const target = upstreamUrl(cfg.upstream, req.url ?? '/');
    const kind = mediaKind(target.pathname);
    // Hashes are keyed by the path pages request (what their worker sees), not the upstream's path.
    const pagePath = new URL(req.url ?? '/', 'http://local').pathname;
    const onBytes = cfg.counters.request(kind);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<void>((resolve) => {
      const upReq = send(target, { method: req.method, headers: { ...endToEndHeaders(req.headers), host: target.host } });
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
        const headers = endToEndHeaders(upRes.headers);
        // Only this adapter speaks for relaycast: an upstream's own x-relaycast-* headers are dropped.
        for (const k of Object.keys(headers)) if (k.startsWith('x-relaycast-')) delete headers[k];
        const extra = kind === 'playlist' && status === 200 ? playlistControlHeaders(cfg.p2pMode()) : {};
        res.writeHead(status, upRes.statusMessage, { ...headers, ...extra });
        // The first full 200 body of a segment is hashed as it streams through, for /relaycast/hash.
        const hashing = kind === 'segment' && status === 200 && req.method === 'GET' && cfg.hashes.get(pagePath) === undefined;
        const hasher = hashing ? streamHasher() : undefined;
        const expected = Number(upRes.headers['content-length'] ?? NaN);
        let seen = 0;
        const count = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            onBytes?.(chunk.length);
            hasher?.update(chunk);
            seen += chunk.length;
            cb(null, chunk);
          },
          flush(cb) {
            if (hasher && (Number.isNaN(expected) || expected === seen)) cfg.hashes.set(pagePath, hasher.digest());
            cb();
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
  };
}
