import type { SegmentInfo } from '../../protocol/peer.js';
import type { Clock } from '../core/clock.js';
import type { PeerLink } from '../transport/peer-link.js';
import type { Download } from './downloads.js';

/** Piece announcements to one peer are gathered this long, then go in one `have`. */
const FLUSH_MS = 100;

/**
 * Tells peers what this page holds, compactly. A whole segment is one `have` entry; pieces of
 * a segment still arriving are one entry with a bitfield, sent to each peer at most every
 * FLUSH_MS with all that changed meanwhile, and only to peers that lack a piece it gained
 * (BitTorrent's have suppression): a peer that holds the segment hears nothing more of it.
 */
export class Announcer {
  /** Per link, the downloads whose pieces it has not been told of. */
  private readonly dirty = new Map<PeerLink, Set<Download>>();
  private timer: unknown;

  constructor(
    private readonly clock: Clock,
    private readonly links: () => Iterable<PeerLink>,
    /** Announcing a copy `hop` hops from the origin is allowed now (upload consent, hop bound, partial copies relayed). */
    private readonly allowed: (hop: number, partial: boolean) => boolean,
  ) {}

  /** Piece `piece` of `d` was verified here. */
  piece(d: Download, piece: number): void {
    if (d.copy.complete || !this.allowed(d.hop, true)) return;
    for (const l of this.links()) {
      if (!l.isReady || l.hasPiece(d.copy.id, piece)) continue;
      let set = this.dirty.get(l);
      if (!set) this.dirty.set(l, (set = new Set()));
      set.add(d);
    }
    if (this.dirty.size > 0 && this.timer === undefined) this.timer = this.clock.setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** A whole copy was stored: every ready peer that does not hold it hears of it now. */
  whole(info: SegmentInfo): void {
    for (const set of this.dirty.values()) for (const d of set) if (d.copy.id === info.id) set.delete(d);
    if (!this.allowed(info.hop ?? 0, false)) return;
    for (const l of this.links()) {
      const r = l.remoteHas.get(info.id);
      if (l.isReady && (r === undefined || r.pieces !== undefined)) l.announce([info]);
    }
  }

  /** A link closed: nothing more for it. */
  forget(link: PeerLink): void {
    this.dirty.delete(link);
  }

  destroy(): void {
    this.clock.clearTimeout(this.timer);
    this.dirty.clear();
  }

  private flush(): void {
    this.timer = undefined;
    for (const [l, set] of this.dirty) {
      if (!l.isReady) continue;
      const out: SegmentInfo[] = [];
      for (const d of set) {
        if (d.copy.complete || d.copy.isClosed) continue;
        out.push({ id: d.copy.id, seq: d.copy.seq, bytes: d.copy.total, hop: d.hop, pieces: d.copy.have.encode() });
      }
      if (out.length > 0) l.announce(out);
    }
    this.dirty.clear();
  }
}
