import { putBounded } from '../../protocol/bounded.js';
import { DEFAULT_CONFIG, type RelaycastConfig } from '../config.js';
import type { Clock } from '../core/clock.js';
import { isFullMesh } from '../transport/link-policy.js';
import { SILENT_MS, type PeerLink } from '../transport/peer-link.js';
import { owners, ranking, stripeHeads } from './rendezvous.js';
import { STRIPES } from '../../protocol/stripes.js';

/** Segments whose seeder ranking is remembered: those near the live edge, where owners are asked for (up to 64 ids each). */
const SEEDER_RANKINGS_KEPT = 16;
/**
 * Heads per stripe in a large swarm, as a share of the tracker's whole-segment fetchers per
 * segment: each head fetches an eighth of a segment, so half as many per stripe still keeps a
 * spare head for every stripe while the origin's share stays small.
 */
const HEAD_SHARE = 0.5;

export type OwnersConfig = Pick<RelaycastConfig, 'originFetchers'> & Partial<Pick<RelaycastConfig, 'ownerMinAgeMs' | 'maxPeers'>>;

/**
 * Who fetches each new segment from the origin for everyone. When this page sees the whole
 * swarm (a full mesh), rendezvous hashing over its ready links that can carry the stream and
 * itself: every page computes the same owner. In a larger swarm, over the tracker's seeders,
 * which every page gets in the same order (ranked by the upload rates peers confirmed), so the
 * owner is still agreed on; the segment then spreads peer to peer.
 */
export class Owners {
  /** The tracker's view of the whole swarm (TrackerPeers.seeders). */
  private seeders: readonly string[] = [];
  /** Per segment, the seeders by rendezvous weight (cleared when the seeders change): owners are asked for several times per segment. */
  private readonly seederRanking = new Map<string, readonly string[]>();
  private fetchersPerSegment = 1;
  private swarmSize = 0;
  private readonly joinedAtMs: number;

  constructor(
    private readonly cfg: OwnersConfig,
    private readonly clock: Clock,
    private readonly selfId: () => string | undefined,
    private readonly links: ReadonlyMap<string, PeerLink>,
  ) {
    this.joinedAtMs = clock.now();
  }

  /** The tracker's answer: origin fetchers of the whole swarm and its size. Banned peers are already removed. */
  setView(seeders: readonly string[], fetchersPerSegment: number, swarmSize: number): void {
    if (seeders.length !== this.seeders.length || seeders.some((s, i) => s !== this.seeders[i])) this.seederRanking.clear();
    this.seeders = seeders;
    this.fetchersPerSegment = Math.max(1, fetchersPerSegment);
    this.swarmSize = swarmSize;
  }

  /** Viewers in the swarm as the tracker last said (0 before its first answer). */
  get trackerSwarmSize(): number {
    return this.swarmSize;
  }

  /**
   * The swarm is larger than one page's links (client/transport/link-policy.ts isFullMesh): the
   * tracker's seeders fetch from the origin. Decided by the swarm's size alone, never by the links
   * that happen to be ready: pages whose links were still opening switched to the seeders while
   * the others kept the mesh's owner, so each side waited for the other and nobody fetched.
   */
  get usesSeeders(): boolean {
    return this.seeders.length > 0 && !isFullMesh(this.swarmSize, this.cfg.maxPeers ?? DEFAULT_CONFIG.maxPeers);
  }

  /**
   * A link whose requests time out or that went silent. Not one that delivers slowly: with
   * pieces, what a peer delivers to this page is its share of an uplink every peer draws on,
   * which says little about the uplink, and pages that judged one owner by it disagreed.
   */
  unfit(l: PeerLink): boolean {
    return l.failing || l.silentMs > SILENT_MS;
  }

  /** Ready, fit links' peer ids plus our own: the set rendezvous hashing runs over. */
  members(): string[] {
    const ids = [...this.links.values()].filter((l) => l.isReady && !this.unfit(l)).map((l) => l.peerId);
    const self = this.selfId();
    return self === undefined ? ids : [self, ...ids];
  }

  /**
   * Who heads each stripe of a live segment (client/swarm/rendezvous.ts stripeHeads): the same
   * peers for every segment, so the stripe trees below them stay put. Over the tracker's seeders
   * in a large swarm (half as many per stripe as whole-segment fetchers, each fetching an eighth
   * of a segment), else over the settled members of the full mesh, one per stripe.
   */
  heads(key: string): string[][] {
    const seeders = this.usesSeeders;
    const eligible = seeders ? this.seeders : this.settled();
    const per = seeders ? Math.max(1, Math.ceil(this.fetchersPerSegment * HEAD_SHARE)) : this.cfg.originFetchers;
    // The tracker's list is replaced, never changed: by reference. A mesh's members are few: by value.
    const c = this.headsCache;
    if (c && c.swarm === key && c.per === per && (seeders ? c.from === eligible : c.key === eligible.join(','))) return c.heads;
    const heads = stripeHeads(eligible, key, per);
    this.headsCache = { swarm: key, per, from: eligible, key: seeders ? '' : eligible.join(','), heads };
    return heads;
  }
  private headsCache: { swarm: string; per: number; from: readonly string[]; key: string; heads: string[][] } | undefined;

  /** The stripes this page heads, as a bitmask (0 before it has an id). */
  headStripes(key: string): number {
    const self = this.selfId();
    if (self === undefined) return 0;
    const heads = this.heads(key);
    // Asked for every piece the picker looks at: worked out once per list of heads.
    const m = this.maskCache;
    if (m && m.heads === heads && m.self === self) return m.mask;
    let mask = 0;
    for (let s = 0; s < STRIPES; s++) if (heads[s]!.includes(self)) mask |= 1 << s;
    this.maskCache = { heads, self, mask };
    return mask;
  }
  private maskCache: { heads: string[][]; self: string; mask: number } | undefined;

  /** The origin fetchers of segment `id` (VOD, and live segments whose size is not published). */
  of(id: string): string[] {
    const self = this.selfId();
    if (this.usesSeeders) {
      let ranked = this.seederRanking.get(id);
      if (!ranked) putBounded(this.seederRanking, id, (ranked = ranking(this.seeders, id)), SEEDER_RANKINGS_KEPT);
      const out: string[] = [];
      for (const s of ranked) {
        const l = s === self ? undefined : this.links.get(s);
        if (!l || !this.unfit(l)) out.push(s);
        if (out.length >= this.fetchersPerSegment) break;
      }
      if (out.length > 0) return out;
    }
    return owners(this.settled(), id, this.cfg.originFetchers);
  }

  /** Members old enough to fetch for the others: a page that just joined is busy starting its player, and nobody waits for it. */
  private settled(): string[] {
    const self = this.selfId();
    const now = this.clock.now();
    const minAge = this.cfg.ownerMinAgeMs ?? 0;
    return this.members().filter((m) => (m === self ? now - this.joinedAtMs >= minAge : now - (this.links.get(m)?.openedAtMs ?? now) >= minAge));
  }

  /** This page fetches `id` from the origin for the swarm. */
  isOwner(id: string): boolean {
    const self = this.selfId();
    return self !== undefined && this.of(id).includes(self);
  }
}
