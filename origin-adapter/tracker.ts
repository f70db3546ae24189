/**
 * Pure swarm tracker: who is in which swarm, who uploads, who went silent.
 * No I/O and no timers; the clock is passed in so tests can move time.
 */
import type { TrackerAnnounce, TrackerPeers } from '../protocol/tracker.js';
import { ADAPTER_LIMITS } from './config.js';

export interface TrackerConfig {
  readonly announceIntervalMs: number;
  readonly p2p: boolean;
  readonly maxSwarms: number;
  readonly maxPeersPerSwarm: number;
  readonly peersPerAnswer: number;
  /** Peers not seen for this long are pruned. */
  readonly staleAfterMs: number;
  readonly nowMs: () => number;
  /** For sampling peers; injected so simulations are reproducible. */
  readonly random?: () => number;
}

interface PeerEntry {
  uploads: boolean;
  lastSeenMs: number;
}

/** A swarm's peers in join order (Map) plus an array for O(1) random sampling. */
interface Swarm {
  readonly peers: Map<string, PeerEntry>;
  readonly ids: string[];
  readonly pos: Map<string, number>;
}

/** `registered: false` means a cap was hit: the peer still gets an answer but is not stored or handed out. */
export interface AnnounceOutcome {
  readonly answer: TrackerPeers;
  readonly registered: boolean;
}

export interface Tracker {
  announce(a: TrackerAnnounce): AnnounceOutcome;
  /** Drops peers silent for longer than staleAfterMs and empty swarms; returns how many peers were dropped. */
  prune(): number;
  setP2P(on: boolean): void;
  p2p(): boolean;
  /** Peer count per swarm. */
  swarmSizes(): Record<string, number>;
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
    staleAfterMs: ADAPTER_LIMITS.trackerStaleAnnounces * o.announceIntervalMs,
    nowMs,
    random,
  };
}

export function createTracker(cfg: TrackerConfig): Tracker {
  // Map iteration order is insertion order, i.e. join order; re-announces keep the slot.
  const swarms = new Map<string, Swarm>();
  let p2pOn = cfg.p2p;
  const random = cfg.random ?? Math.random;

  const isFresh = (e: PeerEntry, now: number): boolean => now - e.lastSeenMs <= cfg.staleAfterMs;

  function register(a: TrackerAnnounce, now: number): boolean {
    let swarm = swarms.get(a.swarm);
    if (swarm === undefined) {
      if (swarms.size >= cfg.maxSwarms) return false;
      swarm = { peers: new Map(), ids: [], pos: new Map() };
      swarms.set(a.swarm, swarm);
    }
    const known = swarm.peers.get(a.peerId);
    if (known !== undefined) {
      known.lastSeenMs = now;
      known.uploads = a.uploads;
      return true;
    }
    if (swarm.peers.size >= cfg.maxPeersPerSwarm) return false;
    swarm.peers.set(a.peerId, { uploads: a.uploads, lastSeenMs: now });
    swarm.pos.set(a.peerId, swarm.ids.length);
    swarm.ids.push(a.peerId);
    return true;
  }

  function remove(swarm: Swarm, id: string): void {
    swarm.peers.delete(id);
    const i = swarm.pos.get(id);
    if (i === undefined) return;
    const last = swarm.ids.pop();
    if (last !== undefined && last !== id) {
      swarm.ids[i] = last;
      swarm.pos.set(last, i);
    }
    swarm.pos.delete(id);
  }

  /**
   * Origin fetchers: the longest-present fresh uploaders (join order is a proxy for
   * stability), one per ~50 viewers, at least one; and how many of them fetch each segment.
   */
  function seeders(swarm: Swarm | undefined, now: number): { seeders: string[]; fetchersPerSegment: number } {
    if (swarm === undefined || !p2pOn) return { seeders: [], fetchersPerSegment: 1 };
    const want = Math.min(cfg.peersPerAnswer, Math.max(1, Math.ceil(swarm.peers.size / 50)));
    const out: string[] = [];
    for (const [id, e] of swarm.peers) {
      if (out.length >= want) break;
      if (e.uploads && isFresh(e, now)) out.push(id);
    }
    return { seeders: out, fetchersPerSegment: Math.max(1, Math.min(out.length, Math.round(swarm.peers.size / 300))) };
  }

  /**
   * Up to `peersPerAnswer` fresh uploaders other than `self`: all of them in a small swarm
   * (join order), a uniform random sample in a large one, so the mesh is a random graph
   * (a few hops across) rather than a band of viewers who joined at the same time.
   */
  function pick(swarm: Swarm | undefined, self: string, now: number): string[] {
    if (swarm === undefined || !p2pOn) return [];
    const usable = (id: string): boolean => {
      const e = swarm.peers.get(id);
      return id !== self && e !== undefined && e.uploads && isFresh(e, now);
    };
    if (swarm.ids.length <= cfg.peersPerAnswer + 1) return [...swarm.peers.keys()].filter(usable);
    const out = new Set<string>();
    for (let tries = 0; out.size < cfg.peersPerAnswer && tries < cfg.peersPerAnswer * 4; tries++) {
      const id = swarm.ids[Math.floor(random() * swarm.ids.length)];
      if (id !== undefined && usable(id)) out.add(id);
    }
    return [...out];
  }

  return {
    announce(a) {
      const now = cfg.nowMs();
      const registered = register(a, now);
      const swarm = swarms.get(a.swarm);
      const seeds = seeders(swarm, now);
      // Peers to connect to, the seeders first, so every page is near the segments' source.
      const sample = pick(swarm, a.peerId, now);
      const peers = [...new Set([...seeds.seeders.filter((s) => s !== a.peerId), ...sample])].slice(0, cfg.peersPerAnswer);
      const answer: TrackerPeers = {
        type: 'peers',
        swarm: a.swarm,
        peers,
        swarmSize: swarm?.peers.size ?? 0,
        seeders: seeds.seeders,
        fetchersPerSegment: seeds.fetchersPerSegment,
        announceIntervalMs: cfg.announceIntervalMs,
        p2p: p2pOn,
      };
      return { answer, registered };
    },
    prune() {
      const now = cfg.nowMs();
      let dropped = 0;
      for (const [name, swarm] of swarms) {
        for (const [id, e] of swarm.peers) {
          if (!isFresh(e, now)) {
            remove(swarm, id);
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
  };
}
