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
}

export function createProxy(cfg: ProxyConfig) {
  return function proxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return Promise.resolve();
    }
    const target = upstreamUrl(cfg.upstream, req.url ?? '/');
    const onBytes = cfg.counters.request(mediaKind(target.pathname));
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
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEndHeaders(upRes.headers));
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
  };
}
