import { addBounded } from '../../protocol/bounded.js';
import type { SegmentInfo } from '../../protocol/peer.js';
import type { Clock } from '../core/clock.js';
import type { PeerLink } from '../transport/peer-link.js';
import type { Download } from './downloads.js';

/** Piece announcements to one peer are gathered this long, then go in one `have`. */
const FLUSH_MS = 100;

/**
 * Tells peers what this page holds, compactly. A whole segment is one `have` entry; pieces of
 * a segment still arriving are one entry with a bitfield, sent to each peer at most every
 * FLUSH_MS with all that changed meanwhile. Every ready peer hears of them, those that hold the
 * segment too: a holder pushes pieces to a peer that lacks them (client/swarm/pusher.ts), and
 * must know what this page has.
 */
export class Announcer {
  /** Per link, the downloads whose pieces it has not been told of. */
  private readonly dirty = new Map<PeerLink, Set<Download>>();
  private timer: unknown;

  constructor(
    private readonly clock: Clock,
    private readonly links: () => Iterable<PeerLink>,
    /** Announcing a copy `hop` hops from the origin is allowed now (upload consent, partial copies relayed). */
    private readonly allowed: (hop: number, partial: boolean) => boolean,
  ) {}

  /** Piece `piece` of `d` was verified here. */
  piece(d: Download, piece: number): void {
    if (d.copy.complete || !this.allowed(d.hop, true)) return;
    for (const l of this.links()) {
      // Peers holding the segment whole hear of it too: they would push this page what it has.
      if (!l.isReady || this.knowsWhole(l, d.copy.id)) continue;
      let set = this.dirty.get(l);
      if (!set) this.dirty.set(l, (set = new Set()));
      set.add(d);
    }
    if (this.dirty.size > 0 && this.timer === undefined) this.timer = this.clock.setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** A whole copy was stored: every ready peer hears of it now (those lacking it may ask, those holding it will not push it). */
  whole(info: SegmentInfo): void {
    for (const set of this.dirty.values()) for (const d of set) if (d.copy.id === info.id) set.delete(d);
    if (!this.allowed(info.hop ?? 0, false)) return;
    for (const l of this.links()) {
      if (!l.isReady || this.knowsWhole(l, info.id)) continue;
      l.announce([info]);
      this.toldWhole(l, info.id);
    }
  }

  /** Segments each link was told this page holds whole (a few live windows). */
  private readonly told = new Map<PeerLink, Set<string>>();

  private knowsWhole(l: PeerLink, id: string): boolean {
    return this.told.get(l)?.has(id) === true;
  }

  private toldWhole(l: PeerLink, id: string): void {
    let set = this.told.get(l);
    if (!set) this.told.set(l, (set = new Set()));
    addBounded(set, id, 64);
  }

  /** A link closed: nothing more for it. */
  forget(link: PeerLink): void {
    this.dirty.delete(link);
    this.told.delete(link);
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
