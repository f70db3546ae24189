import type { PeerLink } from '../transport/peer-link.js';

/** A piece to push to a peer this page feeds that piece's stripe (client/swarm/feeds.ts). */
export interface FeedJob {
  readonly link: PeerLink;
  readonly segmentId: string;
  readonly seq: number;
  readonly piece: number;
  readonly stripe: number;
  /** The peer relays this stripe onward: it goes before peers that do not (the tree grows first). */
  readonly interior: boolean;
  /** The piece's bytes and the segment's size at send time; undefined when this page no longer holds it. */
  readonly source: () => { readonly bytes: Uint8Array; readonly total: number } | undefined;
  /** The segment's hash list when this peer has not had it from this page (sent first), else undefined. */
  readonly list: () => Promise<Uint8Array | undefined> | undefined;
  readonly queuedAtMs: number;
}

/** Pushes waiting, all peers and swarms; beyond, the oldest go (they are the likeliest to be late). */
const MAX_QUEUED = 512;
/** A push that waited this long is too late to help: dropped. */
export const FEED_STALE_MS = 2500;

/**
 * Pushes owed to fed peers, in the order they go: to peers that relay the stripe onward first
 * (each such piece is passed on down a subtree, so a relay's child waiting behind this page's
 * leaves would delay all of its own), then the oldest segment first (its players need it
 * first), then first come.
 */
export class FeedQueue {
  private readonly jobs: FeedJob[] = [];

  get size(): number {
    return this.jobs.length;
  }

  add(job: FeedJob): void {
    if (this.jobs.length >= MAX_QUEUED) this.jobs.splice(this.oldestIndex(), 1);
    this.jobs.push(job);
  }

  /** The next push still worth sending, or undefined. */
  take(nowMs: number): FeedJob | undefined {
    let best = -1;
    for (let i = 0; i < this.jobs.length; i++) {
      const j = this.jobs[i]!;
      if (j.link.isClosed || nowMs - j.queuedAtMs > FEED_STALE_MS || j.link.hasPiece(j.segmentId, j.piece)) {
        this.jobs.splice(i--, 1);
        continue;
      }
      if (best < 0 || before(j, this.jobs[best]!)) best = i;
    }
    return best < 0 ? undefined : this.jobs.splice(best, 1)[0];
  }

  /** How long the oldest waiting push has waited (0 when none): the uplink's backlog. */
  backlogMs(nowMs: number): number {
    let oldest = nowMs;
    for (const j of this.jobs) if (!j.link.isClosed) oldest = Math.min(oldest, j.queuedAtMs);
    return nowMs - oldest;
  }

  /** Every push to `link` (closed, or no longer fed), or only those of stripe pieces `keep` rejects. */
  dropLink(link: PeerLink, keep: (job: FeedJob) => boolean = () => false): void {
    for (let i = this.jobs.length - 1; i >= 0; i--) {
      const j = this.jobs[i]!;
      if (j.link === link && !keep(j)) this.jobs.splice(i, 1);
    }
  }

  clear(): void {
    this.jobs.length = 0;
  }

  private oldestIndex(): number {
    let k = 0;
    for (let i = 1; i < this.jobs.length; i++) if (this.jobs[i]!.queuedAtMs < this.jobs[k]!.queuedAtMs) k = i;
    return k;
  }
}

function before(a: FeedJob, b: FeedJob): boolean {
  if (a.interior !== b.interior) return a.interior;
  if (a.seq !== b.seq) return a.seq < b.seq;
  return a.queuedAtMs < b.queuedAtMs;
}
