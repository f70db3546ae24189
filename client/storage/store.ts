/** Where a stored copy came from: the origin, peers (pieces, perhaps some filled by the origin), or this viewer's VOD disk cache. */
export type SegmentSource = 'origin' | 'peer' | 'cache';

export interface StoredSegment {
  readonly id: string;
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly source: SegmentSource;
  /** Hops from the origin: 0 when this page fetched it from the origin. */
  readonly hop: number;
  /** Of a copy assembled from peers' pieces, the bytes the origin filled in. */
  readonly originBytes?: number;
}

/**
 * Segments held to serve the player and other viewers. Bounded two ways: only
 * the live window (seq >= newest - keepSegments) and a byte cap, evicting the
 * oldest sequence first.
 */
export class SegmentStore {
  private readonly items = new Map<string, StoredSegment>();
  private totalBytes = 0;
  private newestSeq = -1;

  constructor(private readonly cfg: { readonly maxBytes: number; readonly keepSegments: number }) {}

  put(seg: StoredSegment): boolean {
    if (seg.bytes.byteLength > this.cfg.maxBytes) return false;
    if (this.newestSeq >= 0 && seg.seq < this.newestSeq - this.cfg.keepSegments) return false;
    const old = this.items.get(seg.id);
    if (old) this.totalBytes -= old.bytes.byteLength;
    this.items.set(seg.id, seg);
    this.totalBytes += seg.bytes.byteLength;
    if (seg.seq > this.newestSeq) this.newestSeq = seg.seq;
    this.evict();
    return this.items.has(seg.id);
  }

  get(id: string): StoredSegment | undefined {
    return this.items.get(id);
  }

  has(id: string): boolean {
    return this.items.has(id);
  }

  /** Called when the playlist moves on, even if we stored nothing new. */
  advance(newestSeq: number): void {
    if (newestSeq > this.newestSeq) {
      this.newestSeq = newestSeq;
      this.evict();
    }
  }

  /** Live: the oldest sequence number kept (older ones are evicted here and, by the same rule, at every peer). */
  get floorSeq(): number {
    return this.newestSeq - this.cfg.keepSegments;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get size(): number {
    return this.items.size;
  }

  list(): StoredSegment[] {
    return [...this.items.values()];
  }

  private evict(): void {
    const minSeq = this.newestSeq - this.cfg.keepSegments;
    for (const s of this.items.values()) {
      if (s.seq < minSeq) this.remove(s.id);
    }
    while (this.totalBytes > this.cfg.maxBytes && this.items.size > 0) {
      let oldest: StoredSegment | undefined;
      for (const s of this.items.values()) if (!oldest || s.seq < oldest.seq) oldest = s;
      if (!oldest) break;
      this.remove(oldest.id);
    }
  }

  private remove(id: string): void {
    const s = this.items.get(id);
    if (!s) return;
    this.items.delete(id);
    this.totalBytes -= s.bytes.byteLength;
  }
}
