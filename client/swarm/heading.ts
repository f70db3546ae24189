import { pieceSpan } from '../../protocol/pieces.js';
import type { ByteRange } from '../../protocol/segment-id.js';
import { STRIPES, stripePieces } from '../../protocol/stripes.js';
import type { Clock } from '../core/clock.js';
import type { RelaycastStats } from '../core/stats.js';
import type { Download, Downloads } from './downloads.js';
import type { OriginRate } from './origin-rate.js';

/** What the origin's publisher says of a segment before anyone fetched it: its size and its (checked) hash list. */
export interface SegmentFacts {
  readonly bytes: number;
  readonly list: Uint8Array;
}

/** Why a swarm fetches from the origin: a head's stripes, the whole segment (no size published), missing pieces at a deadline. */
export type OriginWhy = 'head' | 'whole' | 'fill';

export interface HeadingDeps {
  readonly clock: Clock;
  readonly pieceBytes: number;
  readonly stats: RelaycastStats;
  readonly downloads: Downloads;
  readonly originRate: OriginRate;
  /** Size and hash list of a listed segment from the origin's publisher (the adapter), or undefined. */
  readonly describe?: (id: string) => Promise<SegmentFacts | undefined>;
  readonly originFetch: (url: string, range: ByteRange | undefined, part: ByteRange | undefined, why: OriginWhy) => Promise<Uint8Array | undefined>;
  /** No size or list is published: fetch the whole segment instead (the heads of stripe 0, as a whole-segment owner would). */
  readonly fetchWhole: (id: string, url: string, seq: number, range?: ByteRange) => void;
}

/**
 * A head's part of each new live segment: the byte ranges of the stripes it heads, from the
 * origin, as soon as its playlist lists the segment. The head learns the segment's size and hash
 * list from the adapter first (pieces and stripes follow from the size; its children check every
 * piece against the list), so the swarm as a whole fetches each segment once, an eighth by each
 * stripe's head, and no uplink carries a whole first copy.
 */
export class Heading {
  private readonly underway = new Set<string>();

  constructor(private readonly d: HeadingDeps) {}

  /** Fetch stripes `mask` of segment `id` for the swarm. */
  start(id: string, url: string, seq: number, range: ByteRange | undefined, mask: number): void {
    if (this.underway.has(id)) return;
    this.underway.add(id);
    void this.run(id, url, seq, range, mask).finally(() => this.underway.delete(id));
  }

  private async run(id: string, url: string, seq: number, range: ByteRange | undefined, mask: number): Promise<void> {
    const facts = this.d.describe ? await this.d.describe(id) : undefined;
    const { downloads } = this.d;
    const d = facts ? (downloads.get(id) ?? downloads.start(id, seq, facts.bytes)) : undefined;
    if (!facts || !d || d.copy.total !== facts.bytes || !(await downloads.originList(d, facts.list))) {
      // Without size and list no stripe can be cut: the heads of stripe 0 fetch it whole, the others get it from peers.
      if ((mask & 1) !== 0) this.d.fetchWhole(id, url, seq, range);
      return;
    }
    const jobs: Promise<void>[] = [];
    for (let s = 0; s < STRIPES; s++) if ((mask & (1 << s)) !== 0) jobs.push(this.stripe(d, url, range, s));
    await Promise.all(jobs);
  }

  private async stripe(d: Download, url: string, range: ByteRange | undefined, s: number): Promise<void> {
    const span = stripePieces(s, d.copy.pieces);
    if (!span) return;
    // Pieces a parent already pushed need not come again: only the run from the first missing one to the last.
    let { first, last } = span;
    while (first <= last && d.copy.arrived(first)) first++;
    while (last >= first && d.copy.arrived(last)) last--;
    if (first > last) return;
    const { total } = d.copy;
    const part = { start: pieceSpan(first, total, this.d.pieceBytes).start, end: pieceSpan(last, total, this.d.pieceBytes).end - 1 };
    const t0 = this.d.clock.now();
    const bytes = await this.d.originFetch(url, range, part, 'head');
    if (!bytes || bytes.byteLength !== part.end - part.start + 1) return;
    this.d.originRate.record(bytes.byteLength, this.d.clock.now() - t0);
    this.d.downloads.addOrigin(d, first, last, bytes);
  }
}
