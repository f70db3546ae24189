/**
 * An adapter's membership of a cluster (`--redis`): the node, the shared rate limits, signaling's
 * link to the other nodes, the shared tracker, and the operator's kill switch, which any node's
 * admin route sets for all of them.
 */
import type { P2PMode } from '../control.js';
import type { Signaling } from '../signaling-types.js';
import type { Tracker } from '../tracker.js';
import { createClusterNode, type ClusterNode, type ClusterTiming } from './node.js';
import { createRateShare, type RateShare } from './rate-share.js';
import { createRedisStore } from './redis-store.js';
import { createSignalLink, type SignalLink } from './signal-link.js';
import type { ClusterStore } from './store.js';
import { createTrackerShare, type TrackerShare } from './tracker-share.js';

export interface ClusterStats {
  readonly node: string;
  /** The store answers and this node is registered; false: it works on its own view. */
  readonly up: boolean;
  readonly leader: boolean;
  readonly liveNodes: number;
  readonly malformed: number;
  readonly heartbeatsFailed: number;
}

export interface AdapterCluster {
  readonly node: ClusterNode;
  readonly rates: RateShare;
  readonly signal: SignalLink;
  /** Signaling of this node: its ids are refreshed in the store, and other nodes' messages reach it. */
  attachSignaling(s: Signaling): void;
  shareTracker(t: Tracker, announceIntervalMs: number): TrackerShare;
  /** The kill switch set here goes to every node; `apply` receives what another node set. */
  shareP2P(apply: (mode: P2PMode) => void): (mode: P2PMode) => void;
  stats(): ClusterStats;
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** redis://HOST:PORT; or `store`, any ClusterStore (tests). */
  readonly redisUrl?: string;
  readonly store?: ClusterStore;
  readonly log: (line: string) => void;
  readonly timing?: Partial<ClusterTiming>;
  /** How long startup waits for the store before going on with this node's own view. */
  readonly connectWaitMs?: number;
}

function untilReady(store: ClusterStore, ms: number): Promise<void> {
  if (store.ready) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    store.onReady(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

export async function startCluster(o: ClusterOptions): Promise<AdapterCluster> {
  const store = o.store ?? createRedisStore({ url: o.redisUrl ?? '', log: o.log });
  let held: () => Iterable<string> = () => [];
  const node = createClusterNode({ store, log: o.log, timing: o.timing, heldIds: () => held() });
  const rates = createRateShare(node);
  const signal = createSignalLink(node);
  const closers: (() => void)[] = [() => rates.close()];
  await untilReady(store, o.connectWaitMs ?? 3000);
  if (!store.ready) o.log(`redis: not reachable yet; this node works on its own view until it is`);
  await node.start();
  return {
    node,
    rates,
    signal,
    attachSignaling(s) {
      held = () => s.heldIds();
      signal.attach(s);
    },
    shareTracker(t, announceIntervalMs) {
      const share = createTrackerShare(node, t, { announceIntervalMs });
      closers.push(() => share.close());
      return share;
    },
    shareP2P(apply) {
      node.onBus((m) => {
        if (m.t === 'p2p') apply(m.mode);
      });
      return (mode) => node.broadcast({ t: 'p2p', mode });
    },
    stats() {
      return { node: node.id, up: node.up(), leader: node.leader(), liveNodes: node.liveNodes().length, ...node.counters() };
    },
    async close() {
      for (const c of closers) c();
      await node.close();
    },
  };
}
