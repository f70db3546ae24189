/**
 * One adapter process as a member of a cluster: it keeps itself in the store's live set
 * (heartbeat with a TTL), renews or watches the leader lease, refreshes the records of the peer
 * ids it holds, and carries messages: its own inbox channel, and the bus every node hears.
 *
 * When the store is unreachable the node says so (`up()` false) and every caller falls back to
 * this node's own view; when it is back (`onReady`), the node registers again at once and its
 * owners re-claim what they hold (a restarted Redis has lost it all).
 */
import { parseBusMessage, parseInboxMessage, type BusMessage, type InboxMessage } from './messages.js';
import { BUS_CHANNEL, inboxChannel, newNodeId, type ClusterStore } from './store.js';

export interface ClusterTiming {
  /** How often a node renews its place in the live set and the leader lease. */
  readonly heartbeatMs: number;
  /** A node silent this long is dead for every other node: its peers are no longer routed to. */
  readonly nodeTtlMs: number;
  /** A peer record not refreshed for this long is gone: the id is free again. */
  readonly peerTtlMs: number;
  /** How often a node refreshes the records of the ids it holds. */
  readonly peerRefreshMs: number;
}

/**
 * A node is dead for the others after five missed heartbeats: within seconds, yet not after one
 * event-loop stall of a busy process (stalls of several seconds were measured on 2 loaded cores).
 */
export const DEFAULT_CLUSTER_TIMING: ClusterTiming = {
  heartbeatMs: 1000,
  nodeTtlMs: 5000,
  peerTtlMs: 10_000,
  peerRefreshMs: 3000,
};

/** Bus messages are sent without their sender; the node adds its id. */
export type Outgoing = BusMessage extends infer M ? (M extends { readonly from: string } ? Omit<M, 'from'> : never) : never;

export interface ClusterNodeConfig {
  readonly store: ClusterStore;
  readonly timing?: Partial<ClusterTiming>;
  readonly log: (line: string) => void;
  /** The ids whose records this node refreshes (its live and reconnecting sessions). */
  readonly heldIds: () => Iterable<string>;
  /** Tests drive `tick()` themselves. */
  readonly timers?: boolean;
}

export interface ClusterCounters {
  /** Inbox and bus messages dropped by the parser. */
  readonly malformed: number;
  readonly heartbeatsFailed: number;
}

export interface ClusterNode {
  readonly id: string;
  readonly store: ClusterStore;
  readonly timing: ClusterTiming;
  /** The store answered this node's last heartbeat. */
  up(): boolean;
  alive(node: string): boolean;
  liveNodes(): readonly string[];
  /** This node holds the leader lease (it ranks seeders for everyone). */
  leader(): boolean;
  /** Publishes to `node`'s inbox; false when the store is down or nobody listens there. */
  send(node: string, m: InboxMessage): Promise<boolean>;
  /** Publishes on the bus; dropped while the store is down. */
  broadcast(m: Outgoing): void;
  onInbox(fn: (m: InboxMessage) => void): void;
  onBus(fn: (m: BusMessage) => void): void;
  /** The store came back (or first connected) and this node registered again. */
  onRejoin(fn: () => void): void;
  /** A node left the live set. */
  onNodeGone(fn: (node: string) => void): void;
  counters(): ClusterCounters;
  /** One heartbeat (and a peer refresh when due). */
  tick(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createClusterNode(cfg: ClusterNodeConfig): ClusterNode {
  const timing: ClusterTiming = { ...DEFAULT_CLUSTER_TIMING, ...cfg.timing };
  const id = newNodeId();
  const store = cfg.store;
  const inboxFns: ((m: InboxMessage) => void)[] = [];
  const busFns: ((m: BusMessage) => void)[] = [];
  const rejoinFns: (() => void)[] = [];
  const goneFns: ((node: string) => void)[] = [];
  let live = new Set<string>([id]);
  let registered = false;
  /** Set when the store was lost: the next heartbeat that succeeds is a rejoin (a beat under way when it was lost may be the one). */
  let rejoinDue = true;
  let isLeader = false;
  let lastRefreshMs = -Infinity;
  let ticking: Promise<void> | undefined;
  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  const counts = { malformed: 0, heartbeatsFailed: 0 };

  const setLive = (next: Set<string>): void => {
    const before = live;
    live = next;
    for (const n of before) if (!next.has(n)) for (const f of goneFns) f(n);
  };

  const refresh = async (): Promise<void> => {
    const ids = [...cfg.heldIds()];
    // In slices, so one refresh of many thousand ids does not hold Redis up for others.
    for (let i = 0; i < ids.length; i += 1000) await store.refresh(ids.slice(i, i + 1000), timing.peerTtlMs);
  };

  const beat = async (): Promise<void> => {
    try {
      const nodes = await store.heartbeat(id, timing.nodeTtlMs);
      setLive(new Set([...nodes, id]));
      isLeader = await store.lead(id, timing.nodeTtlMs);
      registered = true;
      if (rejoinDue) {
        rejoinDue = false;
        for (const f of rejoinFns) f();
      }
      if (Date.now() - lastRefreshMs >= timing.peerRefreshMs) {
        lastRefreshMs = Date.now();
        await refresh();
      }
    } catch {
      counts.heartbeatsFailed++;
      registered = false;
      rejoinDue = true;
      isLeader = false;
      // On its own: no other node can be reached, so none is routed to.
      setLive(new Set([id]));
    }
  };

  const tick = (): Promise<void> => (ticking ??= beat().finally(() => (ticking = undefined)));

  store.onDown(() => {
    registered = false;
    rejoinDue = true;
    isLeader = false;
    setLive(new Set([id]));
  });
  store.onReady(() => {
    lastRefreshMs = -Infinity;
    void tick();
  });

  return {
    id,
    store,
    timing,
    up: () => registered && store.ready,
    alive: (n) => live.has(n),
    liveNodes: () => [...live],
    leader: () => isLeader && registered && store.ready,
    async send(node, m) {
      if (!store.ready) return false;
      try {
        return (await store.publish(inboxChannel(node), JSON.stringify(m))) > 0;
      } catch {
        return false;
      }
    },
    broadcast(m) {
      if (!store.ready) return;
      store.publish(BUS_CHANNEL, JSON.stringify({ ...m, from: id })).catch(() => undefined);
    },
    onInbox: (f) => void inboxFns.push(f),
    onBus: (f) => void busFns.push(f),
    onRejoin: (f) => void rejoinFns.push(f),
    onNodeGone: (f) => void goneFns.push(f),
    counters: () => ({ ...counts }),
    tick,
    async start() {
      await store.subscribe(inboxChannel(id), (text) => {
        const m = parseInboxMessage(text);
        if (!m.ok) return void counts.malformed++;
        for (const f of inboxFns) f(m.value);
      });
      await store.subscribe(BUS_CHANNEL, (text) => {
        const m = parseBusMessage(text);
        if (!m.ok) return void counts.malformed++;
        // A node hears its own bus messages too: they are not news to it.
        if (m.value.from === id) return;
        for (const f of busFns) f(m.value);
      });
      await tick();
      if (cfg.timers === false) return;
      const t = setInterval(() => void tick(), timing.heartbeatMs);
      t.unref();
      timers.push(t);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearInterval(t);
      await ticking;
      if (store.ready) await store.leave(id).catch(() => undefined);
      await store.close();
    },
  };
}
