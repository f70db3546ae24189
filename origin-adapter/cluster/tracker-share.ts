/**
 * The tracker across nodes. Every node keeps the whole tracker in memory (the state is small and
 * refreshed by every announce), so answers, the pairing check signaling makes for each OFFER,
 * and a Redis outage all stay local: each node answers from its own copy. Announces a node
 * accepts are sent on the bus in batches and applied by every other node; a missed batch is
 * healed by the peer's next announce, and a node that stops hearing others sees their peers
 * go stale and pruned, as a single process sees a silent page.
 *
 * Seeders must be the same list for every page of a swarm, whichever node it asks: the node
 * holding the leader lease ranks them every announce interval and sends the lists that changed;
 * the others answer with those. Without a leader (Redis down) each node ranks its own.
 */
import type { Announce } from '../tracker-route.js';
import type { Tracker } from '../tracker.js';
import { MAX_BUS_ITEMS, MAX_CHANNEL_CHARS, type SharedAnnounce } from './messages.js';
import type { ClusterNode } from './node.js';

export interface TrackerShare {
  /** The tracker route's announce: answered here, passed on to the other nodes. */
  readonly announce: Announce;
  close(): void;
}

export interface TrackerShareOptions {
  readonly announceIntervalMs: number;
  /** How long announces are gathered before they go out as one message. */
  readonly flushMs?: number;
}

/** Messages up to half the size a node accepts, whatever the ids' lengths. */
const BATCH_CHARS = MAX_CHANNEL_CHARS / 2;

/** Sends `items` in as few bus messages as the caps allow. */
function inBatches<T>(items: readonly T[], send: (batch: T[]) => void): void {
  let batch: T[] = [];
  let chars = 0;
  for (const it of items) {
    const n = JSON.stringify(it).length;
    if (batch.length > 0 && (batch.length >= MAX_BUS_ITEMS || chars + n > BATCH_CHARS)) {
      send(batch);
      batch = [];
      chars = 0;
    }
    batch.push(it);
    chars += n;
  }
  if (batch.length > 0) send(batch);
}

export function createTrackerShare(node: ClusterNode, tracker: Tracker, o: TrackerShareOptions): TrackerShare {
  let pending: SharedAnnounce[] = [];

  node.onBus((m) => {
    if (m.t === 'announces') for (const x of m.items) tracker.apply(x.a, x.addr);
    else if (m.t === 'seeders') for (const x of m.items) tracker.setSeeders(x.swarm, x.seeders);
  });

  const flush = (): void => {
    if (pending.length === 0) return;
    const items = pending;
    pending = [];
    inBatches(items, (batch) => node.broadcast({ t: 'announces', items: batch }));
  };
  const flushTimer = setInterval(flush, o.flushMs ?? 100);
  flushTimer.unref();

  const rankTimer = setInterval(() => {
    if (!node.leader()) return;
    inBatches(tracker.rankSeeders(), (batch) => node.broadcast({ t: 'seeders', items: batch }));
  }, o.announceIntervalMs);
  rankTimer.unref();

  return {
    announce(a, address) {
      const { answer, registered } = tracker.announce(a, address);
      // Only what another node needs: never the session token.
      const { token: _t, ...shared } = a;
      if (registered && node.up()) {
        pending.push({ a: shared, addr: address });
        if (pending.length >= MAX_BUS_ITEMS) flush();
      }
      return answer;
    },
    close() {
      clearInterval(flushTimer);
      clearInterval(rankTimer);
    },
  };
}
