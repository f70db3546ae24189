/**
 * --upstream mode: the hashes the adapter publishes come from its own canonical fetch of
 * each segment, never from a client's request. A client chooses its headers and query
 * (`Accept-Encoding: gzip`, `?v=1`) and so the bytes it gets; hashing the first client
 * response let any client set the published hash, and honest copies then failed the check.
 *
 * When the proxy serves a manifest, the segments it lists are registered here (page path ->
 * the upstream URL exactly as listed). The newest of each rendition are fetched at once, the
 * rest when a page asks /relaycast/hash for them. Each fetch is a plain GET of the listed URL
 * with `Accept-Encoding: identity` and no client header, must answer 200 with the whole body,
 * and is hashed as it streams (nothing buffered). Bounded: concurrent fetches, queued paths,
 * bytes per segment, an idle and a total timeout per fetch, remembered paths and failures.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { putBounded } from '../protocol/bounded.js';
import { LIMITS } from '../protocol/limits.js';
import { streamHasher, type HashRegistry, type SegmentHash } from './integrity.js';

export interface UpstreamHashLimits {
  /** Canonical fetches at once. */
  readonly concurrency: number;
  /** Paths waiting for a fetch; over it the oldest waiting one is dropped. */
  readonly queueMax: number;
  /** Largest segment hashed. */
  readonly maxBytes: number;
  /** A fetch whose socket is idle this long is abandoned. */
  readonly idleTimeoutMs: number;
  /** A fetch that takes longer than this in all is abandoned. */
  readonly totalTimeoutMs: number;
  /** Listed paths remembered (page path -> upstream URL). */
  readonly listedMax: number;
  /** A failed path is not fetched again before this. */
  readonly retryAfterMs: number;
  /** Newest (live) or first (VOD) segments of each rendition fetched as soon as a manifest lists them. */
  readonly eagerPerRendition: number;
}

export const UPSTREAM_HASH_LIMITS: UpstreamHashLimits = {
  concurrency: 4,
  queueMax: 256,
  maxBytes: LIMITS.segmentBytes,
  idleTimeoutMs: 10_000,
  totalTimeoutMs: 30_000,
  listedMax: 20_000,
  retryAfterMs: 10_000,
  eagerPerRendition: 8,
};

export interface UpstreamHasher {
  /** A manifest listed these segments of one rendition (page paths and upstream URLs, in list order). */
  listed(segments: readonly { path: string; upstream: URL }[], live: boolean): void;
  /** The hash of a listed path: known, or fetched now (waiting at most `waitMs`). */
  ensure(path: string, waitMs: number): Promise<SegmentHash | undefined>;
  /** Aborts fetches in progress; later calls do nothing. */
  close(): void;
}

type Waiter = (h: SegmentHash | undefined) => void;

const MAX_WAITERS_PER_PATH = 64;

export function createUpstreamHasher(hashes: HashRegistry, limits: Partial<UpstreamHashLimits> = {}, nowMs: () => number = Date.now): UpstreamHasher {
  const L = { ...UPSTREAM_HASH_LIMITS, ...limits };
  const listedUrls = new Map<string, URL>();
  const failedAt = new Map<string, number>();
  const queue = new Set<string>();
  const running = new Map<string, () => void>();
  const waiters = new Map<string, Set<Waiter>>();
  const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: L.concurrency }), https: new HttpsAgent({ keepAlive: true, maxSockets: L.concurrency }) };
  let closed = false;

  const settle = (path: string, h: SegmentHash | undefined): void => {
    const ws = waiters.get(path);
    waiters.delete(path);
    for (const w of ws ?? []) w(h);
  };

  const enqueue = (path: string): void => {
    if (closed || hashes.get(path) !== undefined || running.has(path) || queue.has(path)) return;
    const failed = failedAt.get(path);
    if (failed !== undefined && nowMs() - failed < L.retryAfterMs) return;
    if (queue.size >= L.queueMax) {
      const oldest = queue.values().next().value;
      if (oldest !== undefined) {
        queue.delete(oldest);
        settle(oldest, undefined);
      }
    }
    queue.add(path);
    pump();
  };

  function pump(): void {
    while (!closed && running.size < L.concurrency && queue.size > 0) {
      const path = queue.values().next().value;
      if (path === undefined) return;
      queue.delete(path);
      const url = listedUrls.get(path);
      if (url === undefined) {
        settle(path, undefined);
        continue;
      }
      const abort = fetchAndHash(url, (h) => {
        running.delete(path);
        if (h !== undefined) {
          hashes.set(path, h);
          failedAt.delete(path);
        } else putBounded(failedAt, path, nowMs(), L.listedMax);
        settle(path, h);
        pump();
      });
      running.set(path, abort);
    }
  }

  /** One canonical GET, hashed as it streams; `done` is called exactly once. Returns an abort. */
  function fetchAndHash(url: URL, done: (h: SegmentHash | undefined) => void): () => void {
    let finished = false;
    const finish = (h: SegmentHash | undefined): void => {
      if (finished) return;
      finished = true;
      clearTimeout(total);
      done(h);
    };
    const https = url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      agent: https ? agents.https : agents.http,
      headers: { host: url.host, 'accept-encoding': 'identity', 'user-agent': 'relaycast-adapter (segment hashing)' },
    });
    const total = setTimeout(() => req.destroy(new Error('total timeout')), L.totalTimeoutMs);
    total.unref();
    req.setTimeout(L.idleTimeoutMs, () => req.destroy(new Error('idle timeout')));
    req.on('error', () => finish(undefined));
    req.on('response', (res: IncomingMessage) => {
      const declared = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
      const encoding = String(res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      // Exactly the listed resource, whole and unencoded: anything else is not what pages verify.
      if (res.statusCode !== 200 || encoding !== 'identity' || (declared !== undefined && !(declared >= 0 && declared <= L.maxBytes))) {
        res.resume();
        req.destroy();
        finish(undefined);
        return;
      }
      const h = streamHasher();
      res.on('data', (c: Buffer) => {
        h.update(c);
        if (h.bytes > L.maxBytes) {
          req.destroy();
          finish(undefined);
        }
      });
      res.on('end', () => finish(res.complete && (declared === undefined || declared === h.bytes) ? h.digest() : undefined));
      res.on('error', () => finish(undefined));
      res.on('close', () => finish(undefined));
    });
    req.end();
    return () => req.destroy(new Error('closed'));
  }

  return {
    listed(segments, live) {
      if (closed) return;
      for (const s of segments) putBounded(listedUrls, s.path, s.upstream, L.listedMax);
      const eager = live ? segments.slice(-L.eagerPerRendition) : segments.slice(0, L.eagerPerRendition);
      for (const s of eager) enqueue(s.path);
    },
    ensure(path, waitMs) {
      const known = hashes.get(path);
      if (known !== undefined || closed || !listedUrls.has(path)) return Promise.resolve(known);
      return new Promise((resolve) => {
        const set = waiters.get(path) ?? new Set<Waiter>();
        if (set.size >= MAX_WAITERS_PER_PATH) {
          resolve(undefined);
          return;
        }
        let timer: NodeJS.Timeout | undefined;
        const w: Waiter = (h) => {
          clearTimeout(timer);
          resolve(h);
        };
        // A waiter exists only for a queued or running path, at most MAX_WAITERS_PER_PATH of them.
        set.add(w);
        waiters.set(path, set);
        timer = setTimeout(() => {
          waiters.get(path)?.delete(w);
          resolve(hashes.get(path));
        }, waitMs);
        timer.unref();
        enqueue(path);
        if (!queue.has(path) && !running.has(path)) {
          // Not fetched (failed recently, or closed): answer with what is known.
          waiters.get(path)?.delete(w);
          w(hashes.get(path));
        }
      });
    },
    close() {
      if (closed) return;
      closed = true;
      for (const p of [...queue]) settle(p, undefined);
      queue.clear();
      for (const abort of running.values()) abort();
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
