import { putBounded } from '../../protocol/bounded.js';
import type { PeerLink } from '../transport/peer-link.js';
import type { PushJob } from './uploader.js';
import { stripeOf } from '../../protocol/stripes.js';

/** A segment this page can push pieces of: whole in the store, or verified pieces of a copy still arriving. */
export interface Holding {
  readonly id: string;
  readonly seq: number;
  readonly total: number;
  readonly pieces: number;
  has(piece: number): boolean;
  bytes(piece: number): Uint8Array | undefined;
  hashList(): Promise<Uint8Array | undefined>;
}

export interface PusherEnv {
  uploadAllowed(): boolean;
  /** The swarm's links. */
  links(): Iterable<PeerLink>;
  /** What this page holds of the live window's newest segments, newest first. */
  holdings(): readonly Holding[];
}

/** Pieces remembered as pushed, per link (about two live windows of pieces). */
const MAX_PUSHED_PER_LINK = 512;
/** A peer whose newest announcement is this many segments behind a holding is not current: it is not pushed to. */
const CURRENT_WITHIN_SEGMENTS = 2;

/**
 * What to push when the uplink would be idle ("latest useful piece to the most deprived
 * neighbour", the push policy that spreads a live stream fastest in an epidemic mesh): the
 * newest segment first; among the peers whose announcements show they lack some piece of it
 * (peers that announce nothing, who do not upload, are left to ask), the one that holds
 * fewest; and the piece of it that fewest of this page's peers hold. Each piece goes to a peer
 * at most once from this page.
 */
export class Pusher {
  private readonly pushed = new Map<PeerLink, Map<string, true>>();
  private readonly listSent = new Map<PeerLink, Map<string, true>>();

  constructor(
    private readonly env: PusherEnv,
    private readonly random: () => number = Math.random,
  ) {}

  next(): PushJob | undefined {
    if (!this.env.uploadAllowed()) return undefined;
    const links = [...this.env.links()].filter((l) => l.isReady);
    if (links.length === 0) return undefined;
    for (const h of this.env.holdings()) {
      const target = this.deprived(h, links);
      if (!target) continue;
      const piece = this.rarest(h, target, links);
      if (piece === undefined) continue;
      const bytes = h.bytes(piece);
      if (!bytes) continue;
      this.mark(this.pushed, target, `${h.id}|${piece}`);
      const needsList = !this.listSent.get(target)?.has(h.id);
      if (needsList) this.mark(this.listSent, target, h.id);
      return { link: target, segmentId: h.id, seq: h.seq, piece, bytes, total: h.total, ...(needsList ? { hashList: () => h.hashList() } : {}) };
    }
    return undefined;
  }

  forget(link: PeerLink): void {
    this.pushed.delete(link);
    this.listSent.delete(link);
  }

  /** The ready peer lacking most of `h` among those that lack a piece this page holds and has not pushed it. */
  private deprived(h: Holding, links: readonly PeerLink[]): PeerLink | undefined {
    let best: PeerLink | undefined;
    let bestHeld = Infinity;
    let ties = 0;
    for (const l of links) {
      const r = l.remoteHas.get(h.id);
      if (r && r.pieces === undefined) continue;
      if (!r && !this.current(l, h.seq)) continue;
      if (!this.anyToPush(h, l)) continue;
      const held = r?.pieces?.count ?? 0;
      if (held < bestHeld) [best, bestHeld, ties] = [l, held, 1];
      else if (held === bestHeld && this.random() * ++ties < 1) best = l;
    }
    return best;
  }

  /** The peer announced a segment near `seq`: it is playing the live edge, not gone or far behind. */
  private current(l: PeerLink, seq: number): boolean {
    for (const r of l.remoteHas.values()) if (r.seq >= seq - CURRENT_WITHIN_SEGMENTS) return true;
    return false;
  }

  private anyToPush(h: Holding, l: PeerLink): boolean {
    const sent = this.pushed.get(l);
    for (let i = 0; i < h.pieces; i++) if (h.has(i) && !l.hasPiece(h.id, i) && !sent?.has(`${h.id}|${i}`) && !fedTo(l, i, h.pieces)) return true;
    return false;
  }

  /** The piece of `h` this page holds and `target` lacks that fewest of this page's peers hold. */
  private rarest(h: Holding, target: PeerLink, links: readonly PeerLink[]): number | undefined {
    const sent = this.pushed.get(target);
    let best: number | undefined;
    let bestCount = Infinity;
    let ties = 0;
    for (let i = 0; i < h.pieces; i++) {
      if (!h.has(i) || target.hasPiece(h.id, i) || sent?.has(`${h.id}|${i}`) || fedTo(target, i, h.pieces)) continue;
      let count = 0;
      for (const l of links) if (l.hasPiece(h.id, i)) count++;
      if (count < bestCount) [best, bestCount, ties] = [i, count, 1];
      else if (count === bestCount && this.random() * ++ties < 1) best = i;
    }
    return best;
  }

  private mark(memo: Map<PeerLink, Map<string, true>>, link: PeerLink, key: string): void {
    let m = memo.get(link);
    if (!m) memo.set(link, (m = new Map()));
    putBounded(m, key, true, MAX_PUSHED_PER_LINK);
  }
}

/** A parent pushes the peer this piece's stripe (its `tree` says it needs no more of it): a push from here would be a duplicate. */
function fedTo(l: PeerLink, piece: number, pieces: number): boolean {
  const t = l.remoteTree;
  return t !== undefined && (t.need & (1 << stripeOf(piece, pieces))) === 0;
}
