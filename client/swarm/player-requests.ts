import { pieceSpan } from '../../protocol/pieces.js';
import type { ByteRange } from '../../protocol/segment-id.js';
import type { Clock } from '../core/clock.js';
import type { RelaycastStats } from '../core/stats.js';
import type { SegmentStore, StoredSegment } from '../storage/store.js';
import type { PeerLink } from '../transport/peer-link.js';
import type { Download, Downloads } from './downloads.js';
import { originRuns } from './fill.js';
import type { Jobs } from './jobs.js';
import type { OriginRate } from './origin-rate.js';
import type { Owners } from './owners.js';
import type { SegmentBook } from './segment-book.js';
import { raceTimeout, type Waiters } from './waiters.js';

/** `steps`: what the wait went to, in order (`inflight@ms`, `pieces:k/n@ms`, `have?<owners>@ms`, `fill:k@ms`), for diagnostics. */
export type GetResult =
  | { readonly hit: true; readonly bytes: Uint8Array; readonly steps: readonly string[] }
  | { readonly hit: false; readonly reason: string; readonly steps: readonly string[] };

/** Beyond one playlist refresh, how long an owner may take to fetch a new segment and announce it. */
const OWNER_GRACE_EXTRA_MS = 1500;
/** A player request re-checks its segment at least this often while pieces arrive. */
const CHECK_MS = 250;
/** Steps of one request kept for diagnostics. */
const MAX_TRACE_STEPS = 8;
/** VOD: a peer that announced one of the previous segments this recently plays right here: its copy is worth waiting for. */
const VOD_NEAR_SEGMENTS = 2;

export interface PlayerRequestDeps {
  readonly clock: Clock;
  readonly pieceBytes: number;
  readonly stats: RelaycastStats;
  readonly store: SegmentStore;
  readonly book: SegmentBook;
  readonly owners: Owners;
  readonly downloads: Downloads;
  readonly jobs: Jobs;
  /** Woken when a peer announces a segment. */
  readonly announced: Waiters;
  readonly originRate: OriginRate;
  readonly links: () => Iterable<PeerLink>;
  readonly selfId: () => string | undefined;
  readonly originFetch: (url: string, range?: ByteRange, part?: ByteRange, why?: 'fill') => Promise<Uint8Array | undefined>;
  /** Starts assembling `id` from peers' pieces if a ready peer announced it. */
  readonly startDownload: (id: string) => Download | undefined;
  /** Every piece is in: the whole copy is checked and kept (true) or dropped. */
  readonly completed: (d: Download) => Promise<boolean>;
  /** Live stripe trees are in use (client/swarm/trees.ts): pieces come pushed by parents, no owner is waited for. */
  readonly feedsOn: () => boolean;
  /** Some page heads a stripe (fetches it from the origin for the swarm). */
  readonly anyHead: () => boolean;
}

/**
 * The player-request loop: the player asked for a segment; it is answered from the store, from
 * a copy arriving in pieces, or after its owner announced it, within the deadline; the origin
 * fills only the pieces no peer delivered in time, starting as long before the deadline as this
 * page's origin takes to send them.
 */
export class PlayerRequests {
  constructor(private readonly d: PlayerRequestDeps) {}

  async get(id: string, seq: number, deadlineMs: number): Promise<GetResult> {
    const { clock, store, jobs, downloads, originRate, owners, book } = this.d;
    const start = clock.now();
    const end = start + deadlineMs;
    const left = (): number => end - clock.now();
    const steps: string[] = [];
    const step = (what: string): void => {
      if (steps.length < MAX_TRACE_STEPS) steps.push(`${what}@${Math.round(clock.now() - start)}`);
    };
    let seen: unknown;
    for (;;) {
      const local = store.get(id);
      if (local) return this.deliver(local, steps);
      const running = jobs.get(id);
      if (running) {
        if (left() <= 0) return this.miss('no time', steps);
        if (seen !== running) step('inflight');
        seen = running;
        await raceTimeout(clock, running, left());
        continue;
      }
      const d = downloads.get(id) ?? this.d.startDownload(id);
      if (d) {
        if (seen !== d) step(`pieces:${d.copy.have.count}/${d.copy.pieces}`);
        seen = d;
        // The origin must have sent what is missing by the deadline: the fill starts that long before it.
        const lead = originRate.predictMs(d.copy.total - d.copy.have.count * this.d.pieceBytes);
        const until = Math.min(left(), this.graceLeft(id)) - lead;
        d.urgentUntil = Math.min(d.urgentUntil ?? Infinity, clock.now() + until);
        // (Within a millisecond of it counts as there: a timer for less may fire at the same instant, over and over.)
        if (until < 1) return this.fill(d, steps);
        downloads.schedule();
        await raceTimeout(clock, d.copy.next(), Math.min(until, CHECK_MS));
        continue;
      }
      if (left() <= 0) return this.miss('no time', steps);
      if (this.d.feedsOn()) {
        // Nobody has it yet: a parent's first push or a peer's announcement starts its pieces, within the deadline.
        if (!this.anyReady()) return this.miss('no peers', steps);
        // Nobody heads a stripe (every member joined moments ago): nobody fetches it for the swarm.
        if (!this.d.anyHead()) return this.miss('no heads', steps);
        step('have?');
        if (!(await this.d.announced.wait(clock, id, Math.min(left(), this.graceLeft(id))))) return this.miss('not announced in time', steps);
        continue;
      }
      // Nobody has it yet. Wait for its owner to fetch and announce it, if the owner is a peer.
      const self = this.d.selfId();
      const own = owners.of(id);
      if (self === undefined || own.includes(self) || own.length === 0) return this.miss('owner is self', steps);
      // VOD: an owner elsewhere in the video never fetches this one; wait only for a peer playing right here.
      if (book.vod && !this.peerNear(seq)) return this.miss('no peer near', steps);
      // In a full mesh the owner is a direct peer: it sees a new segment within one playlist refresh
      // of us. Past that grace it is gone or stuck: do not spend the player's buffer on it. In a
      // larger swarm the pieces come over several hops: wait for any peer's `have` until the deadline.
      step(`have?${own.map((o) => o.slice(0, 4)).join('+')}`);
      if (!(await this.d.announced.wait(clock, id, Math.min(left(), this.graceLeft(id))))) return this.miss('not announced in time', steps);
    }
  }

  /**
   * The deadline came with pieces missing: the origin sends just those (byte ranges), the copy
   * is checked whole and the player gets it. With no piece from peers at all, the worker's own
   * origin fetch is as quick: a miss.
   */
  private async fill(d: Download, steps: string[]): Promise<GetResult> {
    const { downloads, clock, pieceBytes, stats } = this.d;
    const { copy } = d;
    downloads.cancelRequests(copy.id);
    const missing = copy.missing();
    if (missing.length === copy.pieces) {
      downloads.drop(copy.id);
      return this.miss('no time', steps);
    }
    const known = this.d.book.get(copy.id);
    if (!known) return this.miss('not listed', steps);
    if (steps.length < MAX_TRACE_STEPS) steps.push(`fill:${missing.length}`);
    d.filled = true;
    const job = (async (): Promise<boolean> => {
      const got = await Promise.all(
        originRuns(missing).map(async ([first, last]) => {
          const part = { start: pieceSpan(first, copy.total, pieceBytes).start, end: pieceSpan(last, copy.total, pieceBytes).end - 1 };
          const t0 = clock.now();
          const bytes = await this.d.originFetch(known.url, known.range, part, 'fill');
          if (!bytes || bytes.byteLength !== part.end - part.start + 1) return false;
          this.d.originRate.record(bytes.byteLength, clock.now() - t0);
          stats.originBytes += bytes.byteLength;
          d.originBytes += bytes.byteLength;
          copy.addOriginRange(first, last, bytes);
          return true;
        }),
      );
      if (!got.every(Boolean) || !copy.complete) {
        downloads.drop(copy.id);
        return false;
      }
      return this.d.completed(d);
    })();
    await this.d.jobs.track(copy.id, job);
    const local = this.d.store.get(copy.id);
    return local ? this.deliver(local, steps) : this.miss('fill failed', steps);
  }

  /**
   * In a full mesh the owners and stripe heads are direct peers: they see a new segment within
   * one playlist refresh of this page. Past that grace one is gone or stuck: the origin fills in
   * rather than spend the player's buffer on it. In a larger swarm pieces come over several
   * hops: the wait goes on until the deadline.
   */
  private graceLeft(id: string): number {
    const { book, owners, clock } = this.d;
    const firstSeen = book.get(id)?.firstSeenMs;
    return firstSeen === undefined || owners.usesSeeders ? Infinity : firstSeen + book.targetDurationMs + OWNER_GRACE_EXTRA_MS - clock.now();
  }

  private anyReady(): boolean {
    for (const l of this.d.links()) if (l.isReady) return true;
    return false;
  }

  /** VOD: a ready peer announced one of the segments just before `seq`, so it plays here and will have `seq` soon. */
  private peerNear(seq: number): boolean {
    for (const l of this.d.links()) {
      if (!l.isReady) continue;
      for (const h of l.remoteHas.values()) if (h.seq < seq && h.seq >= seq - VOD_NEAR_SEGMENTS) return true;
    }
    return false;
  }

  private deliver(seg: StoredSegment, steps: readonly string[]): GetResult {
    const { stats } = this.d;
    const n = seg.bytes.byteLength;
    if (seg.source === 'cache') stats.deliveredCacheBytes += n;
    else {
      const fromOrigin = seg.source === 'origin' ? n : Math.min(n, seg.originBytes ?? 0);
      stats.deliveredOriginBytes += fromOrigin;
      stats.deliveredPeerBytes += n - fromOrigin;
    }
    stats.peerHits++;
    return { hit: true, bytes: seg.bytes, steps };
  }

  private miss(reason: string, steps: readonly string[]): GetResult {
    this.d.stats.peerMisses++;
    return { hit: false, reason, steps };
  }
}
