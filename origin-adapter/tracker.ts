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
}

interface PeerEntry {
  uploads: boolean;
  lastSeenMs: number;
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
): TrackerConfig {
  return {
    announceIntervalMs: o.announceIntervalMs,
    p2p: o.p2p,
    maxSwarms: ADAPTER_LIMITS.trackerMaxSwarms,
    maxPeersPerSwarm: ADAPTER_LIMITS.trackerMaxPeersPerSwarm,
    peersPerAnswer: ADAPTER_LIMITS.trackerPeersPerAnswer,
    staleAfterMs: ADAPTER_LIMITS.trackerStaleAnnounces * o.announceIntervalMs,
    nowMs,
  };
}

export function createTracker(cfg: TrackerConfig): Tracker {
  // Map iteration order is insertion order, i.e. join order; re-announces keep the slot.
  const swarms = new Map<string, Map<string, PeerEntry>>();
  let p2pOn = cfg.p2p;

  const isFresh = (e: PeerEntry, now: number): boolean => now - e.lastSeenMs <= cfg.staleAfterMs;

  function register(a: TrackerAnnounce, now: number): boolean {
    let swarm = swarms.get(a.swarm);
    if (swarm === undefined) {
      if (swarms.size >= cfg.maxSwarms) return false;
      swarm = new Map();
      swarms.set(a.swarm, swarm);
    }
    const known = swarm.get(a.peerId);
    if (known !== undefined) {
      known.lastSeenMs = now;
      known.uploads = a.uploads;
      return true;
    }
    if (swarm.size >= cfg.maxPeersPerSwarm) return false;
    swarm.set(a.peerId, { uploads: a.uploads, lastSeenMs: now });
    return true;
  }

  /**
   * Origin fetchers: the longest-present fresh uploaders (join order is a proxy for
   * stability), one per ~50 viewers, at least one; and how many of them fetch each segment.
   */
  function seeders(swarm: Map<string, PeerEntry> | undefined, now: number): { seeders: string[]; fetchersPerSegment: number } {
    if (swarm === undefined || !p2pOn) return { seeders: [], fetchersPerSegment: 1 };
    const want = Math.min(cfg.peersPerAnswer, Math.max(1, Math.ceil(swarm.size / 50)));
    const out: string[] = [];
    for (const [id, e] of swarm) {
      if (out.length >= want) break;
      if (e.uploads && isFresh(e, now)) out.push(id);
    }
    return { seeders: out, fetchersPerSegment: Math.max(1, Math.min(out.length, Math.round(swarm.size / 300))) };
  }

  /** The newest `peersPerAnswer` fresh uploaders other than `self`, oldest first, plus the seeders. */
  function pick(swarm: Map<string, PeerEntry> | undefined, self: string, now: number): string[] {
    if (swarm === undefined || !p2pOn) return [];
    const ring: string[] = [];
    for (const [id, e] of swarm) {
      if (id === self || !e.uploads || !isFresh(e, now)) continue;
      ring.push(id);
      if (ring.length > cfg.peersPerAnswer) ring.shift();
    }
    return ring;
  }

  return {
    announce(a) {
      const now = cfg.nowMs();
      const registered = register(a, now);
      const swarm = swarms.get(a.swarm);
      const seeds = seeders(swarm, now);
      // A new viewer gets the newest peers and the seeders, so every page is near the segments' source.
      const recent = pick(swarm, a.peerId, now);
      const peers = [...new Set([...seeds.seeders.filter((s) => s !== a.peerId), ...recent])].slice(-cfg.peersPerAnswer);
      const answer: TrackerPeers = {
        type: 'peers',
        swarm: a.swarm,
        peers,
        swarmSize: swarm?.size ?? 0,
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
        for (const [id, e] of swarm) {
          if (!isFresh(e, now)) {
            swarm.delete(id);
            dropped++;
          }
        }
        if (swarm.size === 0) swarms.delete(name);
      }
      return dropped;
    },
    setP2P(on) {
      p2pOn = on;
    },
    p2p: () => p2pOn,
    swarmSizes() {
      return Object.fromEntries([...swarms].map(([name, s]) => [name, s.size]));
    },
  };
}
