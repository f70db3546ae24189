/**
 * An in-process stand-in for the Redis server: several nodes in one test process share one hub,
 * with the same semantics as redis-store.ts (expiry by a passed-in clock, publish answering the
 * receiver count, delivery after the current task as over a socket). `down()` and `up()` play
 * an outage; `up({ lost: true })` a restart that lost every key.
 */
import { formatPeerRecord, parsePeerRecord, type ClaimResult, type ClusterStore, type PeerRecord } from './store.js';

interface Expiring {
  readonly value: string;
  readonly untilMs: number;
}

export interface MemoryHub {
  /** A node's connection to the hub. */
  connect(): ClusterStore;
  down(): void;
  up(o?: { readonly lost?: boolean }): void;
}

export function createMemoryHub(nowMs: () => number = Date.now): MemoryHub {
  const keys = new Map<string, Expiring>();
  const subscribers = new Map<string, Set<(text: string) => void>>();
  const stores = new Set<{ setReady(r: boolean): void }>();
  let isUp = true;

  const get = (k: string): string | undefined => {
    const e = keys.get(k);
    if (e === undefined) return undefined;
    if (e.untilMs <= nowMs()) {
      keys.delete(k);
      return undefined;
    }
    return e.value;
  };
  const set = (k: string, value: string, ttlMs: number): void => void keys.set(k, { value, untilMs: nowMs() + ttlMs });
  const peerKey = (id: string): string => `peer:${id}`;
  const nodeKey = (id: string): string => `node:${id}`;
  const live = (): string[] => [...keys.keys()].filter((k) => k.startsWith('node:') && get(k) !== undefined).map((k) => k.slice(5));

  return {
    connect() {
      let ready = isUp;
      let closed = false;
      const readyFns: (() => void)[] = [];
      const downFns: (() => void)[] = [];
      const mine: [string, (text: string) => void][] = [];
      const must = async (): Promise<void> => {
        if (!ready || closed) throw new Error('store down');
      };
      const handle = {
        setReady(r: boolean) {
          if (r === ready || closed) return;
          ready = r;
          for (const f of r ? readyFns : downFns) queueMicrotask(f);
        },
      };
      stores.add(handle);
      const store: ClusterStore = {
        get ready() {
          return ready && !closed;
        },
        onReady: (f) => void readyFns.push(f),
        onDown: (f) => void downFns.push(f),
        async heartbeat(node, ttlMs) {
          await must();
          set(nodeKey(node), '1', ttlMs);
          return live();
        },
        async leave(node) {
          await must();
          keys.delete(nodeKey(node));
          if (get('leader') === node) keys.delete('leader');
        },
        async claim(id, rec, ttlMs): Promise<ClaimResult> {
          await must();
          const old = parsePeerRecord(get(peerKey(id)));
          if (old !== undefined && old.tokenHash !== rec.tokenHash) return { kind: 'taken' };
          set(peerKey(id), formatPeerRecord(rec), ttlMs);
          return old === undefined ? { kind: 'new' } : { kind: 'resumed', from: old.node };
        },
        async refresh(ids, ttlMs) {
          await must();
          for (const id of ids) {
            const v = get(peerKey(id));
            if (v !== undefined) set(peerKey(id), v, ttlMs);
          }
        },
        async release(id, node) {
          await must();
          if (parsePeerRecord(get(peerKey(id)))?.node === node) keys.delete(peerKey(id));
        },
        async locate(id): Promise<PeerRecord | undefined> {
          await must();
          return parsePeerRecord(get(peerKey(id)));
        },
        async lead(node, ttlMs) {
          await must();
          const holder = get('leader');
          if (holder !== undefined && holder !== node) return false;
          set('leader', node, ttlMs);
          return true;
        },
        async publish(channel, text) {
          await must();
          const subs = [...(subscribers.get(channel) ?? [])];
          // Delivered after this task, like a message over a socket.
          setImmediate(() => {
            if (isUp) for (const f of subs) f(text);
          });
          return subs.length;
        },
        async subscribe(channel, onText) {
          // Like a Redis subscriber connection: the subscription holds through outages.
          const set = subscribers.get(channel) ?? new Set();
          set.add(onText);
          subscribers.set(channel, set);
          mine.push([channel, onText]);
        },
        async close() {
          closed = true;
          stores.delete(handle);
          for (const [c, f] of mine) subscribers.get(c)?.delete(f);
        },
      };
      return store;
    },
    down() {
      isUp = false;
      for (const s of stores) s.setReady(false);
    },
    up(o = {}) {
      if (o.lost === true) keys.clear();
      isUp = true;
      for (const s of stores) s.setReady(true);
    },
  };
}
