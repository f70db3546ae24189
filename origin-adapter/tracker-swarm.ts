/**
 * A tracker swarm's state (tracker.ts) and the upload rates its seeders are ranked by.
 */

/** One reporter's confirmations count at most this many times the swarm's median rate, in sum. */
export const CONFIRM_SHARE_OF_MEDIAN = 2;

export interface PeerEntry {
  uploads: boolean;
  lastSeenMs: number;
  /** Link slots the page reported free at its last announce, minus the times it was handed out since. */
  free: number;
  /** Smoothed reported upload rate (bytes/s), undefined before the first report. */
  uploadRate: number | undefined;
  /** What this page said it received from which peers at its last announce (TrackerAnnounce.received). */
  received: ReadonlyMap<string, number>;
  /** The client address it announced from, when known: confirmations between peers of one address do not count. */
  address: string | undefined;
  /** Where it can feed others in the stripe trees, as it last said, less the children handed to it since. */
  tree: { depth: readonly number[]; room: number } | undefined;
}

/** A swarm's peers in join order (Map); all of them and the "open" ones (uploaders with free link slots) for O(1) uniform sampling. */
export interface Swarm {
  readonly peers: Map<string, PeerEntry>;
  readonly all: IndexedSet;
  readonly open: IndexedSet;
  /**
   * Per stripe, uploaders that relay it with a feed: the parents handed to pages that lack one.
   * `roomy`: those with room for a child besides; a full one still takes a page that relays
   * the stripe too, in a leaf's place.
   */
  readonly relays: IndexedSet[];
  readonly roomy: IndexedSet[];
  /** The origin fetchers, recomputed at most once per announce interval (seeders.ts). */
  seeders: string[];
  seedersAtMs: number;
  /** When a list from the leader node last arrived (or, on the leader, was ranked): -Infinity for none. */
  sharedAtMs: number;
  /** The leader: when this swarm's list was last sent to the other nodes. */
  sentAtMs: number;
}

/** Array plus positions: add, delete and uniform random pick in O(1). */
export class IndexedSet {
  readonly items: string[] = [];
  private readonly pos = new Map<string, number>();

  has(id: string): boolean {
    return this.pos.has(id);
  }

  add(id: string): void {
    if (this.pos.has(id)) return;
    this.pos.set(id, this.items.length);
    this.items.push(id);
  }

  delete(id: string): void {
    const i = this.pos.get(id);
    if (i === undefined) return;
    const last = this.items.pop();
    if (last !== undefined && last !== id) {
      this.items[i] = last;
      this.pos.set(last, i);
    }
    this.pos.delete(id);
  }

  get size(): number {
    return this.items.length;
  }
}

/**
 * The upload rate each peer is credited with when seeders are ranked: its own report, but
 * beyond the swarm's median only as far as other peers confirm it.
 *
 *   confirmed(p) = sum over the swarm's fresh peers r (r not p, and not announcing from p's
 *                  address) of the rate r says it received from p; one reporter's
 *                  confirmations count at most CONFIRM_SHARE_OF_MEDIAN x the median in all
 *                  (a page receives about one copy of the stream, whoever sends it)
 *   credited(p)  = min(reported(p), max(confirmed(p), median of reported rates))
 *
 * So an id that claims 10 Gbit/s ranks like a median uploader until others vouch for it,
 * and a few ids cannot vouch for each other from one address. Pages that report no
 * `received` leave every claim capped at the median: seeders then follow join order among
 * those at or above it, and a slow seeder (below half the median) is still replaced.
 */
export function creditedRates(swarm: Swarm, isFresh: (e: PeerEntry) => boolean): (id: string, e: PeerEntry) => number | undefined {
  const reported: number[] = [];
  for (const e of swarm.peers.values()) if (e.uploads && isFresh(e) && e.uploadRate !== undefined) reported.push(e.uploadRate);
  reported.sort((x, y) => x - y);
  const median = reported.length > 0 ? (reported[Math.floor(reported.length / 2)] ?? 0) : 0;
  const confirmed = new Map<string, number>();
  for (const [rid, r] of swarm.peers) {
    if (!isFresh(r) || r.received.size === 0) continue;
    let budget = CONFIRM_SHARE_OF_MEDIAN * median;
    for (const [pid, bps] of r.received) {
      const p = swarm.peers.get(pid);
      if (budget <= 0) break;
      if (pid === rid || p === undefined || (p.address !== undefined && p.address === r.address)) continue;
      const take = Math.min(bps, budget);
      budget -= take;
      confirmed.set(pid, (confirmed.get(pid) ?? 0) + take);
    }
  }
  return (id, e) => (e.uploadRate === undefined ? undefined : Math.min(e.uploadRate, Math.max(confirmed.get(id) ?? 0, median)));
}
