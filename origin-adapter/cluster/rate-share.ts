/**
 * Per-address rate limits that hold across nodes. Each node decides at once from its own token
 * buckets, as a single process does, and every `flushMs` tells the other nodes how many
 * requests of which address it allowed; they charge those to their buckets of that address. So
 * one address gets one budget from the whole cluster, give or take what it spends within one
 * flush interval on each node, and no request waits for Redis. While Redis is down, each node
 * enforces the limits alone.
 */
import { RateLimiter } from '../rate-limit.js';
import { MAX_BUS_ITEMS } from './messages.js';
import type { ClusterNode } from './node.js';

export interface RateShare {
  /** A limiter whose allowed requests count on every node; `name` pairs it with its twins on the others. */
  limiter(name: string, burst: number, perSec: number): RateLimiter;
  close(): void;
}

export const RATE_SHARE_FLUSH_MS = 250;

export function createRateShare(node: ClusterNode, now: () => number = Date.now, flushMs = RATE_SHARE_FLUSH_MS): RateShare {
  const limiters = new Map<string, RateLimiter>();
  /** Per limiter: requests allowed here since the last flush, by key (at most MAX_BUS_ITEMS keys; more are not told). */
  const pending = new Map<string, Map<string, number>>();

  node.onBus((m) => {
    if (m.t !== 'rates') return;
    const l = limiters.get(m.name);
    if (l !== undefined) for (const [key, n] of m.items) l.charge(key, n);
  });

  const flush = (): void => {
    for (const [name, counts] of pending) {
      if (counts.size === 0) continue;
      node.broadcast({ t: 'rates', name, items: [...counts] });
      counts.clear();
    }
  };
  const timer = setInterval(flush, flushMs);
  timer.unref();

  return {
    limiter(name, burst, perSec) {
      const l = new RateLimiter(burst, perSec, 10_000, now);
      const counts = new Map<string, number>();
      l.onAllow = (key) => {
        const n = counts.get(key);
        if (n !== undefined) counts.set(key, n + 1);
        else if (counts.size < MAX_BUS_ITEMS) counts.set(key, 1);
      };
      limiters.set(name, l);
      pending.set(name, counts);
      return l;
    },
    close() {
      clearInterval(timer);
    },
  };
}
