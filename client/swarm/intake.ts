import type { ByteRange } from '../../protocol/segment-id.js';
import type { Clock } from '../core/clock.js';
import type { Verdict } from '../core/integrity.js';
import type { RelaycastStats } from '../core/stats.js';
import type { SegmentStore, StoredSegment } from '../storage/store.js';
import type { Announcer } from './announcer.js';
import type { Download, Downloads } from './downloads.js';
import type { OriginWhy } from './heading.js';
import type { Holdings } from './holdings.js';
import type { Jobs } from './jobs.js';
import type { OriginRate } from './origin-rate.js';
import type { SegmentBook } from './segment-book.js';
import type { Trees } from './trees.js';
import type { Waiters } from './waiters.js';

export interface IntakeDeps {
  readonly clock: Clock;
  readonly stats: RelaycastStats;
  readonly store: SegmentStore;
  readonly book: SegmentBook;
  readonly downloads: Downloads;
  readonly announcer: Announcer;
  readonly trees: Trees;
  readonly jobs: Jobs;
  readonly holdings: Holdings;
  readonly originRate: OriginRate;
  readonly haveWaiters: Waiters;
  readonly originFetch: (url: string, range?: ByteRange, part?: ByteRange, why?: OriginWhy) => Promise<Uint8Array | undefined>;
  readonly verify: (id: string, bytes: Uint8Array) => Promise<Verdict>;
  readonly onStored?: (id: string, hop: number, bytes: Uint8Array) => void;
  readonly onKept?: (seg: StoredSegment) => void;
}

/**
 * How a whole copy enters a swarm: from the origin (the player's own fetch, a VOD owner's or a
 * head's whole fetch), from the disk cache, or assembled from pieces and checked against the
 * published hash. Each is stored once and announced to peers and to the children of its stripes.
 */
export class Intake {
  constructor(private readonly d: IntakeDeps) {}

  /** The worker fetched this segment from the origin for the player (in `fetchMs`, when it said): keep it for peers. */
  onOriginCopy(id: string, seq: number, bytes: Uint8Array, fetchMs?: number): void {
    if (fetchMs !== undefined) this.d.originRate.record(bytes.byteLength, fetchMs);
    this.d.stats.originBytes += bytes.byteLength;
    this.d.stats.deliveredOriginBytes += bytes.byteLength;
    this.keep({ id, seq, bytes, source: 'origin', hop: 0 });
  }

  /**
   * A segment kept from an earlier visit (VOD disk cache): stored and announced like any other
   * once it matched the published hash again (the disk is the viewer's, not ours).
   */
  async restore(seg: StoredSegment): Promise<boolean> {
    const { store } = this.d;
    if (store.has(seg.id) || (await this.d.verify(seg.id, seg.bytes)) !== 'ok' || store.has(seg.id)) return false;
    this.keep({ ...seg, source: 'cache' });
    return true;
  }

  /** The whole segment from the origin, for the swarm (a VOD owner, or a head whose segment size is not published). */
  fetchWhole(id: string, url: string, seq: number, range?: ByteRange): void {
    const { store, jobs, clock } = this.d;
    if (store.has(id) || jobs.has(id)) return;
    const t0 = clock.now();
    const job = this.d.originFetch(url, range, undefined, 'whole').then((bytes) => {
      if (!bytes) return false;
      this.d.originRate.record(bytes.byteLength, clock.now() - t0);
      this.d.stats.originBytes += bytes.byteLength;
      this.keep({ id, seq, bytes, source: 'origin', hop: 0 });
      return true;
    });
    void jobs.track(id, job);
  }

  /** Every piece arrived: the whole segment is checked against the published hash before anyone sees it. */
  async completed(d: Download): Promise<boolean> {
    const { copy } = d;
    const { stats } = this.d;
    if (d.completing) return false;
    d.completing = true;
    const verdict = await this.d.verify(copy.id, copy.bytes);
    this.d.downloads.drop(copy.id);
    if (verdict !== 'ok') {
      if (verdict === 'mismatch') stats.rejectedSegments++;
      else stats.unverifiedSegments++;
      return false;
    }
    const list = copy.hashList;
    if (list) this.d.holdings.rememberList(copy.id, list);
    if (d.senders.size >= 2) stats.segmentsFromSeveralPeers++;
    if (d.filled) stats.filledSegments++;
    const originBytes = d.originBytes;
    this.keep({ id: copy.id, seq: copy.seq, bytes: copy.bytes, source: originBytes >= copy.total ? 'origin' : 'peer', hop: d.hop, originBytes });
    return true;
  }

  /** Store and tell every peer that lacks it. */
  private keep(seg: StoredSegment): void {
    const { d } = this;
    d.downloads.drop(seg.id);
    if (!d.store.put(seg)) return;
    d.book.onStored(seg.id, seg.bytes.byteLength);
    d.onStored?.(seg.id, seg.hop, seg.bytes);
    d.onKept?.(seg);
    d.announcer.whole({ id: seg.id, seq: seg.seq, bytes: seg.bytes.byteLength, hop: seg.hop });
    d.trees.onStored(seg.id, seg.seq);
    d.haveWaiters.wake(seg.id);
  }
}
