/**
 * Pure swarm tracker: who is in which swarm, who uploads, who went silent.
 * No I/O and no timers; the clock is passed in so tests can move time.
 */
import { ALL_STRIPES, homeStripe, STRIPES } from '../protocol/stripes.js';
import { MAX_FREE_LINKS, PARENTS_PER_STRIPE, type TrackerAnnounce, type TrackerPeers, type TreeReport } from '../protocol/tracker.js';
import { ADAPTER_LIMITS } from './config.js';
import { chooseSeeders } from './seeders.js';
import { creditedRates, IndexedSet, type PeerEntry, type Swarm } from './tracker-swarm.js';
export { CONFIRM_SHARE_OF_MEDIAN } from './tracker-swarm.js';

export interface TrackerConfig {
  readonly announceIntervalMs: number;
  readonly p2p: boolean;
  readonly maxSwarms: number;
  readonly maxPeersPerSwarm: number;
  readonly peersPerAnswer: number;
  /**
   * A page reporting at least this many free link slots is linking up (a newcomer): besides
   * peers with free slots it gets `newcomerRandomPeers` drawn from all uploaders, full ones
   * included (a full page takes such a dial by evicting an idle link: client/link-policy.ts),
   * so a newcomer's links reach across the whole swarm, not only to pages that joined just
   * before it.
   */
  readonly newcomerFreeLinks: number;
  /** Most seeders (origin fetchers) of one swarm; at most LIMITS.trackerPeers. */
  readonly maxSeeders: number;
  readonly newcomerRandomPeers: number;
  /** Peers not seen for this long are pruned. */
  readonly staleAfterMs: number;
  readonly nowMs: () => number;
  /** For sampling peers; injected so simulations are reproducible. */
  readonly random?: () => number;
  /**
   * True while seeder lists come from the cluster's leader node (`setSeeders`; the leader ranks
   * them with `rankSeeders`), so every node answers a swarm with the same list. A list older than
   * SHARED_SEEDERS_STALE intervals, or none, is ranked here as by a single process.
   */
  readonly sharedSeeders?: () => boolean;
}

/** Intervals after which a list from the leader no longer counts (the leader is gone: rank here). */
export const SHARED_SEEDERS_STALE = 3;
/** The leader sends an unchanged list again after this many intervals (a node that joined later learns it). */
export const SEEDERS_RESEND_INTERVALS = 10;
/** Unchanged lists the leader sends again per round. */
const SEEDERS_RESENT_PER_ROUND = 200;

/** Viewers per origin fetcher of each segment (see `seeders`). */
export const VIEWERS_PER_FETCHER = 50;

function receivedOf(a: TrackerAnnounce): ReadonlyMap<string, number> {
  return new Map((a.received ?? []).map((r) => [r.peer, r.bytesPerSec]));
}

/** Smoothing of reported upload rates: half the new report, half the history. */
function smooth(old: number | undefined, report: number | undefined): number | undefined {
  if (report === undefined) return old;
  return old === undefined ? report : 0.5 * old + 0.5 * report;
}

/** `registered: false` means a cap was hit: the peer still gets an answer but is not stored or handed out. */
export interface AnnounceOutcome {
  readonly answer: TrackerPeers;
  readonly registered: boolean;
}

export interface Tracker {
  /** `address`: where the announce came from (confirmations from the same address do not count). */
  announce(a: TrackerAnnounce, address?: string): AnnounceOutcome;
  /** An announce another node accepted (cluster): registered here too, without an answer or a handout. */
  apply(a: TrackerAnnounce, address?: string): void;
  /** A swarm's seeders as the leader node ranked them. */
  setSeeders(swarm: string, seeders: readonly string[]): void;
  /** The leader node: ranks every swarm's seeders now; the lists that changed, and some unchanged ones to send again. */
  rankSeeders(): { swarm: string; seeders: string[] }[];
  /** Drops peers silent for longer than staleAfterMs and empty swarms; returns how many peers were dropped. */
  prune(): number;
  setP2P(on: boolean): void;
  p2p(): boolean;
  /** Peer count per swarm. */
  swarmSizes(): Record<string, number>;
  /** Whether the tracker has both peers in one swarm (signaling relays offers only between such peers). */
  shareSwarm(a: string, b: string): boolean;
  /** Distinct peers in the swarms `match` accepts: one viewer in a video and an audio swarm counts once. */
  countPeers(match: (swarm: string) => boolean): number;
}

export function trackerConfig(
  o: { announceIntervalMs: number; p2p: boolean },
  nowMs: () => number = Date.now,
  random: () => number = Math.random,
): TrackerConfig {
  return {
    announceIntervalMs: o.announceIntervalMs,
    p2p: o.p2p,
    maxSwarms: ADAPTER_LIMITS.trackerMaxSwarms,
    maxPeersPerSwarm: ADAPTER_LIMITS.trackerMaxPeersPerSwarm,
    peersPerAnswer: ADAPTER_LIMITS.trackerPeersPerAnswer,
    newcomerFreeLinks: 6,
    maxSeeders: 64,
    newcomerRandomPeers: 3,
    staleAfterMs: ADAPTER_LIMITS.trackerStaleAnnounces * o.announceIntervalMs,
    nowMs,
    random,
  };
}

export function createTracker(cfg: TrackerConfig): Tracker {
  // Map iteration order is insertion order, i.e. join order; re-announces keep the slot.
  const swarms = new Map<string, Swarm>();
  /** The swarms each peer is registered in. */
  const peerSwarms = new Map<string, Set<string>>();
  let p2pOn = cfg.p2p;
  const random = cfg.random ?? Math.random;

  const isFresh = (e: PeerEntry, now: number): boolean => now - e.lastSeenMs <= cfg.staleAfterMs;

  /** Free slots as reported; a page that does not report them counts as always free. */
  const reportedFree = (a: TrackerAnnounce): number => a.freeLinks ?? MAX_FREE_LINKS;

  function setOpen(swarm: Swarm, id: string, e: PeerEntry): void {
    if (e.uploads && e.free > 0) swarm.open.add(id);
    else swarm.open.delete(id);
    for (let s = 0; s < STRIPES; s++) {
      const relays = e.uploads && e.tree !== undefined && (e.tree.depth[s] ?? -1) >= 0;
      if (relays) swarm.relays[s]!.add(id);
      else swarm.relays[s]!.delete(id);
      if (relays && e.tree!.room > 0) swarm.roomy[s]!.add(id);
      else swarm.roomy[s]!.delete(id);
    }
  }

  const treeOf = (t: TreeReport | undefined): PeerEntry['tree'] => (t === undefined ? undefined : { depth: t.depth, room: t.room });

  function register(a: TrackerAnnounce, now: number, address: string | undefined): boolean {
    let swarm = swarms.get(a.swarm);
    if (swarm === undefined) {
      if (swarms.size >= cfg.maxSwarms) return false;
      swarm = { peers: new Map(), all: new IndexedSet(), open: new IndexedSet(), relays: Array.from({ length: STRIPES }, () => new IndexedSet()), roomy: Array.from({ length: STRIPES }, () => new IndexedSet()), seeders: [], seedersAtMs: -Infinity, sharedAtMs: -Infinity, sentAtMs: -Infinity };
      swarms.set(a.swarm, swarm);
    }
    const known = swarm.peers.get(a.peerId);
    if (known !== undefined) {
      known.lastSeenMs = now;
      known.uploads = a.uploads;
      known.free = reportedFree(a);
      known.uploadRate = smooth(known.uploadRate, a.uploadBytesPerSec);
      known.received = receivedOf(a);
      known.address = address;
      known.tree = treeOf(a.tree);
      setOpen(swarm, a.peerId, known);
      return true;
    }
    if (swarm.peers.size >= cfg.maxPeersPerSwarm) return false;
    const e: PeerEntry = { uploads: a.uploads, lastSeenMs: now, free: reportedFree(a), uploadRate: a.uploadBytesPerSec, received: receivedOf(a), address, tree: treeOf(a.tree) };
    swarm.peers.set(a.peerId, e);
    swarm.all.add(a.peerId);
    const mine = peerSwarms.get(a.peerId) ?? new Set<string>();
    mine.add(a.swarm);
    peerSwarms.set(a.peerId, mine);
    setOpen(swarm, a.peerId, e);
    return true;
  }

  function remove(name: string, swarm: Swarm, id: string): void {
    const mine = peerSwarms.get(id);
    mine?.delete(name);
    if (mine?.size === 0) peerSwarms.delete(id);
    swarm.peers.delete(id);
    swarm.all.delete(id);
    swarm.open.delete(id);
    for (const r of swarm.relays) r.delete(id);
    for (const r of swarm.roomy) r.delete(id);
  }

  /** `id` was handed out: one of its free slots is probably taken by the dial that follows. */
  function reserve(swarm: Swarm, id: string): void {
    const e = swarm.peers.get(id);
    if (e === undefined) return;
    e.free = Math.max(0, e.free - 1);
    setOpen(swarm, id, e);
  }

  const wanted = (swarm: Swarm): number => Math.min(cfg.maxSeeders, Math.max(1, Math.ceil(swarm.peers.size / 20)));

  /** Ranks `swarm`'s seeders now (seeders.ts); true when the list changed. */
  function rank(swarm: Swarm, now: number): boolean {
    const rate = creditedRates(swarm, (e) => isFresh(e, now));
    const candidates = [...swarm.peers].map(([id, e]) => ({ id, eligible: e.uploads && isFresh(e, now), rate: rate(id, e) }));
    const before = swarm.seeders;
    swarm.seeders = chooseSeeders(candidates, swarm.seeders, wanted(swarm));
    swarm.seedersAtMs = now;
    return before.length !== swarm.seeders.length || before.some((id, i) => id !== swarm.seeders[i]);
  }

  /**
   * Origin fetchers: one per ~20 viewers (at most maxSeeders), the fastest long-present
   * uploaders (seeders.ts); and how many of them fetch each segment, about one per 50
   * viewers (2 % of the swarm's segment bytes). Each owner's copy must reach its part of the
   * swarm within the few seconds the players' buffers allow; in pieces, from several peers at
   * once, a copy takes a piece's time per hop. More fetchers per segment trade owner bytes for
   * fill bytes: in the simulator (N = 300, 60 s, 10 %/min churn, 30 % not uploading, 6 Mb/s,
   * a 16 Mb/s upload budget) one per 50 / 20 / 10 viewers gave offload 0.681 / 0.733 / 0.750,
   * but at 2.5 Mb/s, where little is filled, each extra fetcher is 1/N of the bytes lost.
   */
  function seeders(swarm: Swarm | undefined, now: number): { seeders: string[]; fetchersPerSegment: number } {
    if (swarm === undefined || !p2pOn) return { seeders: [], fetchersPerSegment: 1 };
    const shared = cfg.sharedSeeders?.() === true && now - swarm.sharedAtMs <= SHARED_SEEDERS_STALE * cfg.announceIntervalMs;
    if (!shared && (swarm.seeders.length !== wanted(swarm) || now - swarm.seedersAtMs >= cfg.announceIntervalMs)) rank(swarm, now);
    const out = swarm.seeders;
    return { seeders: out, fetchersPerSegment: Math.max(1, Math.min(out.length, Math.round(swarm.peers.size / VIEWERS_PER_FETCHER))) };
  }

  /**
   * Fresh uploaders other than `self` for `self` to dial. A small swarm (a full mesh):
   * all of them, in join order, those with free slots first. A large one: up to `want`
   * (the caller's own free slots) drawn uniformly from the uploaders that still have
   * free slots, the swarm's seeders among them first, so the mesh is a random graph
   * (a few hops across) and dials go to pages that accept them. Each handout takes one
   * of that peer's free slots until it announces again.
   */
  function pick(swarm: Swarm | undefined, self: string, want: number, seeds: readonly string[], now: number): string[] {
    if (swarm === undefined || !p2pOn) return [];
    const usable = (id: string): boolean => {
      const e = swarm.peers.get(id);
      return id !== self && e !== undefined && e.uploads && isFresh(e, now);
    };
    if (swarm.peers.size <= cfg.peersPerAnswer + 1) {
      const all = [...swarm.peers.keys()].filter(usable);
      const free = (id: string): boolean => (swarm.peers.get(id)?.free ?? 0) > 0;
      return [...all.filter(free), ...all.filter((id) => !free(id))];
    }
    const n = Math.min(want, cfg.peersPerAnswer);
    const out = new Set<string>();
    const take = (id: string | undefined): void => {
      if (id === undefined || out.has(id) || !usable(id) || !swarm.open.has(id)) return;
      out.add(id);
      reserve(swarm, id);
    };
    if (want >= cfg.newcomerFreeLinks) {
      const k = Math.min(n, cfg.newcomerRandomPeers);
      for (let tries = 0; out.size < k && tries < k * 4; tries++) {
        const id = swarm.all.items[Math.floor(random() * swarm.all.size)];
        if (id !== undefined && !out.has(id) && usable(id)) {
          out.add(id);
          reserve(swarm, id);
        }
      }
    }
    for (const s of seeds) if (out.size < n) take(s);
    for (let tries = 0; out.size < n && swarm.open.size > 0 && tries < n * 4; tries++) {
      take(swarm.open.items[Math.floor(random() * swarm.open.size)]);
    }
    return [...out];
  }

  /**
   * For each stripe the page lacks a parent of (`need`), up to PARENTS_PER_STRIPE pages that
   * relay it with a feed and room for a child: the shallowest of a few drawn at random (random, so pages lacking a parent do not all
   * crowd the same few). Each one handed out takes one of its reported child slots until it
   * announces again. A page that relays the stripe itself (it uploads, and the stripe is its home
   * stripe, protocol/stripes.ts) may also get full ones: it takes a leaf's place.
   */
  function parents(swarm: Swarm | undefined, self: string, uploads: boolean, need: number, now: number): string[][] | undefined {
    if (swarm === undefined || !p2pOn || swarm.peers.size <= cfg.peersPerAnswer + 1) return undefined;
    const out: string[][] = [];
    const home = uploads ? homeStripe(self) : -1;
    for (let s = 0; s < STRIPES; s++) {
      // A stripe the page has a parent of: nobody's child slot is spent on it.
      if ((need & (1 << s)) === 0) {
        out.push([]);
        continue;
      }
      const set = s === home ? swarm.relays[s]! : swarm.roomy[s]!;
      const drawn = new Map<string, number>();
      for (let tries = 0; tries < 4 * PARENTS_PER_STRIPE && set.size > 0; tries++) {
        const id = set.items[Math.floor(random() * set.size)]!;
        const e = swarm.peers.get(id);
        if (id !== self && e?.tree !== undefined && isFresh(e, now)) drawn.set(id, e.tree.depth[s] ?? 0);
      }
      const picked = [...drawn].sort((x, y) => x[1] - y[1]).slice(0, PARENTS_PER_STRIPE).map(([id]) => id);
      for (const id of picked) {
        const e = swarm.peers.get(id)!;
        if (e.tree) e.tree.room = Math.max(0, e.tree.room - 1);
        setOpen(swarm, id, e);
      }
      out.push(picked);
    }
    return out;
  }

  return {
    announce(a, address) {
      const now = cfg.nowMs();
      const registered = register(a, now, address);
      const swarm = swarms.get(a.swarm);
      const seeds = seeders(swarm, now);
      const peers = pick(swarm, a.peerId, reportedFree(a), seeds.seeders, now);
      const candidates = parents(swarm, a.peerId, a.uploads, a.tree?.need ?? ALL_STRIPES, now);
      const answer: TrackerPeers = {
        type: 'peers',
        swarm: a.swarm,
        peers,
        swarmSize: swarm?.peers.size ?? 0,
        seeders: seeds.seeders,
        fetchersPerSegment: seeds.fetchersPerSegment,
        announceIntervalMs: cfg.announceIntervalMs,
        p2p: p2pOn,
        ...(candidates ? { parents: candidates } : {}),
      };
      return { answer, registered };
    },
    apply(a, address) {
      register(a, cfg.nowMs(), address);
    },
    setSeeders(name, list) {
      const swarm = swarms.get(name);
      if (swarm === undefined) return;
      swarm.seeders = [...list];
      swarm.sharedAtMs = swarm.seedersAtMs = cfg.nowMs();
    },
    rankSeeders() {
      const now = cfg.nowMs();
      const out: { swarm: string; seeders: string[] }[] = [];
      let resent = 0;
      for (const [name, swarm] of swarms) {
        const changed = rank(swarm, now);
        swarm.sharedAtMs = now;
        const due = now - swarm.sentAtMs >= SEEDERS_RESEND_INTERVALS * cfg.announceIntervalMs && resent < SEEDERS_RESENT_PER_ROUND;
        if (!changed && !due) continue;
        if (!changed) resent++;
        swarm.sentAtMs = now;
        out.push({ swarm: name, seeders: swarm.seeders });
      }
      return out;
    },
    prune() {
      const now = cfg.nowMs();
      let dropped = 0;
      for (const [name, swarm] of swarms) {
        for (const [id, e] of swarm.peers) {
          if (!isFresh(e, now)) {
            remove(name, swarm, id);
            dropped++;
          }
        }
        if (swarm.peers.size === 0) swarms.delete(name);
      }
      return dropped;
    },
    setP2P(on) {
      p2pOn = on;
    },
    p2p: () => p2pOn,
    swarmSizes() {
      return Object.fromEntries([...swarms].map(([name, s]) => [name, s.peers.size]));
    },
    countPeers(match) {
      let n = 0;
      for (const mine of peerSwarms.values()) {
        for (const name of mine) {
          if (match(name)) {
            n++;
            break;
          }
        }
      }
      return n;
    },
    shareSwarm(a, b) {
      const sa = peerSwarms.get(a);
      const sb = peerSwarms.get(b);
      if (sa === undefined || sb === undefined) return false;
      const [small, large] = sa.size <= sb.size ? [sa, sb] : [sb, sa];
      for (const name of small) if (large.has(name)) return true;
      return false;
    },
  };
}
