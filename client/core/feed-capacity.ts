import { MAX_TREE_ROOM } from '../../protocol/tracker.js';
import type { Swarm } from '../swarm/swarm.js';

/** Share of the measured uplink promised to the peers this page feeds: the rest answers requests and carries control messages. */
const FEED_SHARE = 0.9;
/** Child stripes (all swarms) a page takes before its uplink is measured. */
const FIRST_CHILDREN = 2;

export interface FeedCapacityPorts {
  /** The uplink's measured capacity, bytes/s (client/swarm/uplink-meter.ts), undefined before a measurement. */
  readonly measured: () => number | undefined;
  /** The page's upload budget, bytes/s (0: none set). */
  readonly budget: () => number;
  readonly swarms: () => Iterable<Swarm>;
}

/**
 * How many child stripes this page's uplink takes, over all its swarms: 90 % of the measured
 * uplink (within the upload budget) less what the children it feeds cost already; two before
 * the first measurement.
 */
export class FeedCapacity {
  constructor(private readonly p: FeedCapacityPorts) {}

  /** One more stripe of `bytesPerSec` fits. */
  fits(bytesPerSec: number): boolean {
    const { load, children } = this.used();
    const cap = this.cap();
    if (cap === undefined || bytesPerSec <= 0) return children < FIRST_CHILDREN;
    return load + bytesPerSec <= FEED_SHARE * cap;
  }

  /** More child stripes of `bytesPerSec` each that fit (what the tracker hears as `room`), 0 – MAX_TREE_ROOM. */
  room(bytesPerSec: number): number {
    const { load, children } = this.used();
    const cap = this.cap();
    const room = cap === undefined || bytesPerSec <= 0 ? FIRST_CHILDREN - children : Math.floor((FEED_SHARE * cap - load) / bytesPerSec);
    return Math.max(0, Math.min(MAX_TREE_ROOM, room));
  }

  private cap(): number | undefined {
    const measured = this.p.measured();
    if (measured === undefined) return undefined;
    const budget = this.p.budget();
    return budget > 0 ? Math.min(measured, budget) : measured;
  }

  private used(): { load: number; children: number } {
    let load = 0;
    let children = 0;
    for (const s of this.p.swarms()) {
      load += s.trees.feedBytesPerSec;
      children += s.trees.children.count;
    }
    return { load, children };
  }
}
