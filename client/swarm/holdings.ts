import { putBounded } from '../../protocol/bounded.js';
import type { SegmentInfo } from '../../protocol/peer.js';
import { pieceSpan } from '../../protocol/pieces.js';
import { hashList, type Digest } from '../storage/piece-copy.js';
import type { SegmentStore } from '../storage/store.js';
import type { Download, Downloads } from './downloads.js';
import type { Holding } from './pusher.js';
import type { SegmentBook } from './segment-book.js';

/** Hash lists of stored segments kept for peers that ask (a few live windows). */
const LISTS_KEPT = 32;

export interface HoldingsDeps {
  readonly store: SegmentStore;
  readonly downloads: Downloads;
  readonly book: SegmentBook;
  readonly pieceBytes: number;
  readonly digest: Digest;
  /** Verified pieces of copies still arriving are offered too. */
  readonly relayWhileReceiving: boolean;
}

/**
 * What this page can serve: whole segments in the store and verified pieces of copies still
 * arriving, piece by piece, with each segment's hash list (verified with its pieces, or
 * computed once from a whole copy).
 */
export class Holdings {
  private readonly lists = new Map<string, Promise<Uint8Array>>();

  constructor(private readonly d: HoldingsDeps) {}

  /** Keeps the verified hash list of a segment just completed, for peers that ask. */
  rememberList(id: string, list: Uint8Array): void {
    putBounded(this.lists, id, Promise.resolve(list), LISTS_KEPT);
  }

  /** Piece `piece` of a held segment (whole or verified piece of a partial copy), for upload. */
  pieceOf(id: string, piece: number): { bytes: Uint8Array; total: number } | undefined {
    const stored = this.d.store.get(id);
    if (stored) {
      const { start, end } = pieceSpan(piece, stored.bytes.byteLength, this.d.pieceBytes);
      return start < end ? { bytes: stored.bytes.subarray(start, end), total: stored.bytes.byteLength } : undefined;
    }
    const dl = this.d.downloads.get(id);
    const bytes = dl?.copy.piece(piece);
    return dl && bytes ? { bytes, total: dl.copy.total } : undefined;
  }

  /** Whether piece `piece` of `id` can be served: its segment is stored or the piece verified. */
  canServe(id: string, piece: number): { seq: number } | undefined {
    const stored = this.d.store.get(id);
    if (stored) return piece < Math.ceil(stored.bytes.byteLength / this.d.pieceBytes) ? { seq: stored.seq } : undefined;
    const dl = this.d.downloads.get(id);
    return dl && dl.copy.piece(piece) !== undefined ? { seq: dl.copy.seq } : undefined;
  }

  /** The hash list of a held segment. */
  listOf(id: string): Promise<Uint8Array | undefined> {
    const dl = this.d.downloads.get(id);
    if (dl) return Promise.resolve(dl.copy.hashList);
    const cached = this.lists.get(id);
    if (cached) return cached;
    const stored = this.d.store.get(id);
    if (!stored) return Promise.resolve(undefined);
    const list = hashList(stored.bytes, this.d.pieceBytes, this.d.digest);
    putBounded(this.lists, id, list, LISTS_KEPT);
    return list;
  }

  /** Everything held, as a new link's first `have`: whole segments, then partial copies with their bitfields. */
  announceable(): SegmentInfo[] {
    const have: SegmentInfo[] = this.d.store.list().map((s) => ({ id: s.id, seq: s.seq, bytes: s.bytes.byteLength, hop: s.hop }));
    if (this.d.relayWhileReceiving) {
      for (const dl of this.d.downloads.values()) {
        const { copy } = dl;
        if (copy.have.count > 0 && !copy.complete) have.push({ id: copy.id, seq: copy.seq, bytes: copy.total, hop: dl.hop, pieces: copy.have.encode() });
      }
    }
    return have;
  }

  /**
   * What this page can push (client/swarm/pusher.ts, client/swarm/feed-children.ts): live, the
   * segments from one before the newest listed on, newest first, whole in the store or verified
   * pieces of copies arriving.
   */
  pushable(): Holding[] {
    const { book, store, downloads } = this.d;
    if (book.vod || book.newestSeq < 0) return [];
    const from = book.newestSeq - 1;
    const out: Holding[] = [];
    for (const seg of store.list()) if (seg.seq >= from) out.push(this.whole(seg.id, seg.seq, seg.bytes.byteLength));
    if (this.d.relayWhileReceiving) {
      for (const dl of downloads.values()) {
        const h = dl.copy.seq >= from ? this.partial(dl) : undefined;
        if (h && dl.copy.have.count > 0 && !store.has(dl.copy.id)) out.push(h);
      }
    }
    return out.sort((a, b) => b.seq - a.seq);
  }

  /** Segment `id` as a holding to push from, whole or arriving (its hash list known), or undefined. */
  holdingOf(id: string): Holding | undefined {
    const stored = this.d.store.get(id);
    if (stored) return this.whole(id, stored.seq, stored.bytes.byteLength);
    const dl = this.d.downloads.get(id);
    return dl ? this.partial(dl) : undefined;
  }

  private whole(id: string, seq: number, total: number): Holding {
    return {
      id,
      seq,
      total,
      pieces: Math.ceil(total / this.d.pieceBytes),
      has: () => true,
      bytes: (i) => this.pieceOf(id, i)?.bytes,
      hashList: () => this.listOf(id),
    };
  }

  private partial(dl: Download): Holding | undefined {
    const { copy } = dl;
    if (copy.hashList === undefined) return undefined;
    return { id: copy.id, seq: copy.seq, total: copy.total, pieces: copy.pieces, has: (i) => copy.have.has(i), bytes: (i) => copy.piece(i), hashList: () => Promise.resolve(copy.hashList) };
  }
}
