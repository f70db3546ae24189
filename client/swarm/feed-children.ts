import { putBounded } from '../../protocol/bounded.js';
import { STRIPES, stripeOf, stripePieces } from '../../protocol/stripes.js';
import type { Clock } from '../core/clock.js';
import type { PeerLink } from '../transport/peer-link.js';
import type { Holding } from './pusher.js';
import type { Uploader } from './uploader.js';

/** Child stripes one swarm of this page feeds at most, whatever its uplink. */
export const MAX_CHILDREN = 48;
/** Pushes owed for longer than this: this page promised more than its uplink carries. */
const SHED_BACKLOG_MS = 3000;
/** At most one child let go per this interval (the backlog takes a moment to drain). */
const SHED_EVERY_MS = 1000;
/** Pieces remembered as pushed, per link (a few live windows of pieces). */
const MAX_PUSHED_PER_LINK = 512;

export interface FeedChildrenEnv {
  readonly clock: Clock;
  readonly uploadAllowed: () => boolean;
  /** This page can feed stripe `s` now: it relays `s` and has a feed of it (or heads it). */
  readonly canFeed: (s: number) => boolean;
  /** One more child stripe of this swarm fits the page's uplink, as measured. */
  readonly fits: () => boolean;
  /** `peerId` relays stripe `s` onward (its home stripe, or one it heads). */
  readonly relays: (peerId: string, s: number) => boolean;
  readonly uploader: Uploader;
  /** What this page holds of the live window's newest segments (to send a new child what it lacks). */
  readonly recent: () => readonly Holding[];
}

interface Child {
  /** It relays the stripe onward: its pieces go first. */
  readonly relays: boolean;
  /** Who gives way when the uplink is full: a leaf (1) before a relay (2). */
  readonly rank: number;
  readonly sinceMs: number;
}

/**
 * The parent's side of the stripe trees: the peers this page feeds, per stripe, and the pushes
 * owed to them. A peer is taken while the page's measured uplink has room for one more stripe.
 * When it has none, a peer that relays the stripe takes the place of the newest one that does
 * not (the trees grow before their leaves); otherwise it is refused and asks someone else. A
 * page whose pushes back up lets one child go at a time, leaves first, newest first.
 */
export class FeedChildren {
  private readonly kids: Map<PeerLink, Child>[] = Array.from({ length: STRIPES }, () => new Map());
  private readonly pushed = new Map<PeerLink, Map<string, true>>();
  private readonly listSent = new Map<PeerLink, Map<string, true>>();
  private lastShedMs = -Infinity;

  constructor(private readonly env: FeedChildrenEnv) {}

  /** Child stripes fed now. */
  get count(): number {
    let n = 0;
    for (const m of this.kids) n += m.size;
    return n;
  }

  has(link: PeerLink, s: number): boolean {
    return this.kids[s]!.has(link);
  }

  hasAny(s: number): boolean {
    return this.kids[s]!.size > 0;
  }

  /** Links this page feeds some stripe (they are not idle: never evicted for a newcomer). */
  feeds(link: PeerLink): boolean {
    return this.kids.some((m) => m.has(link));
  }

  onSub(link: PeerLink, s: number, on: boolean, claimsRelay: boolean): void {
    const kids = this.kids[s]!;
    if (!on) {
      kids.delete(link);
      this.env.uploader.unfeed(link, (j) => j.stripe !== s);
      return;
    }
    if (kids.has(link)) return link.sendFeed(s, true);
    if (!this.env.uploadAllowed() || !this.env.canFeed(s)) return link.sendFeed(s, false);
    const relays = claimsRelay && this.env.relays(link.peerId, s);
    const rank = relays ? 2 : 1;
    const full = this.count >= MAX_CHILDREN || !this.env.fits();
    if (full && !this.dropBelow(rank)) return link.sendFeed(s, false);
    kids.set(link, { relays, rank, sinceMs: this.env.clock.now() });
    link.sendFeed(s, true);
    // What it lacks of the newest segments goes now; what comes later, as it comes.
    for (const h of this.env.recent()) {
      const span = stripePieces(s, h.pieces);
      if (span) for (let i = span.first; i <= span.last; i++) if (h.has(i)) this.owe(link, h, i, relays);
    }
  }

  /** Piece `piece` of `h` is here (verified, or from the origin): every child of its stripe that lacks it gets it. */
  piece(h: Holding, piece: number): void {
    if (!this.env.uploadAllowed()) return;
    for (const [link, c] of this.kids[stripeOf(piece, h.pieces)]!) this.owe(link, h, piece, c.relays);
  }

  onClose(link: PeerLink): void {
    for (const m of this.kids) m.delete(link);
    this.pushed.delete(link);
    this.listSent.delete(link);
  }

  /** Periodically: nobody is fed without upload consent; a backed-up uplink lets one child go. */
  tick(): void {
    if (!this.env.uploadAllowed()) {
      for (let s = 0; s < STRIPES; s++) for (const l of [...this.kids[s]!.keys()]) this.release(l, s);
      return;
    }
    const now = this.env.clock.now();
    if (this.env.uploader.feedBacklogMs() < SHED_BACKLOG_MS || now - this.lastShedMs < SHED_EVERY_MS) return;
    const victim = this.newest((c) => c.rank === 1) ?? this.newest(() => true);
    if (!victim) return;
    this.lastShedMs = now;
    this.release(victim.link, victim.s);
  }

  destroy(): void {
    for (let s = 0; s < STRIPES; s++) for (const l of [...this.kids[s]!.keys()]) this.release(l, s);
  }

  private owe(link: PeerLink, h: Holding, piece: number, relays: boolean): void {
    if (!link.isReady || link.hasPiece(h.id, piece)) return;
    const key = `${h.id}|${piece}`;
    let sent = this.pushed.get(link);
    if (sent?.has(key)) return;
    if (!sent) this.pushed.set(link, (sent = new Map()));
    putBounded(sent, key, true, MAX_PUSHED_PER_LINK);
    this.env.uploader.feed({
      link,
      segmentId: h.id,
      seq: h.seq,
      piece,
      stripe: stripeOf(piece, h.pieces),
      interior: relays,
      queuedAtMs: this.env.clock.now(),
      source: () => {
        const bytes = h.bytes(piece);
        return bytes ? { bytes, total: h.total } : undefined;
      },
      list: () => {
        let lists = this.listSent.get(link);
        if (lists?.has(h.id)) return undefined;
        if (!lists) this.listSent.set(link, (lists = new Map()));
        putBounded(lists, h.id, true, 64);
        return h.hashList();
      },
    });
  }

  /** The newest child of a rank below `rank` gives its place (the tree grows before its leaves, this page's own tree before others). */
  private dropBelow(rank: number): boolean {
    for (let r = 1; r < rank; r++) {
      const victim = this.newest((c) => c.rank === r);
      if (!victim) continue;
      this.release(victim.link, victim.s);
      return true;
    }
    return false;
  }

  private newest(ok: (c: Child) => boolean): { link: PeerLink; s: number } | undefined {
    let best: { link: PeerLink; s: number } | undefined;
    let since = -Infinity;
    for (let s = 0; s < STRIPES; s++) {
      for (const [link, c] of this.kids[s]!) if (ok(c) && c.sinceMs > since) [best, since] = [{ link, s }, c.sinceMs];
    }
    return best;
  }

  private release(link: PeerLink, s: number): void {
    if (!this.kids[s]!.delete(link)) return;
    this.env.uploader.unfeed(link, (j) => j.stripe !== s);
    if (link.isReady) link.sendFeed(s, false);
  }
}
