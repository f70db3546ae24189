import { MAX_HOP } from '../../protocol/peer.js';
import type { Clock } from '../core/clock.js';
import type { Verdict } from '../core/integrity.js';
import type { RelaycastStats } from '../core/stats.js';
import { PieceCopy, type Digest } from '../storage/piece-copy.js';
import type { PeerLink, PieceResult } from '../transport/peer-link.js';
import type { Download } from './download.js';
import { expectedMs, latePieces, pickPiece, requestTimeoutMs, targetPending, type Candidates } from './piece-picker.js';

export type { Download } from './download.js';

export interface DownloadsEnv {
  readonly clock: Clock;
  readonly pieceBytes: number;
  readonly digest: Digest;
  readonly stats: RelaycastStats;
  /** The ready links of the swarm. */
  links(): Iterable<PeerLink>;
  /** Checks a hash list against the root the origin published for `id`. */
  verifyList(id: string, list: Uint8Array): Promise<Verdict>;
  /** A piece was verified here: tell the peers that lack it. */
  onPiece(d: Download, piece: number): void;
  /** Every piece is here: check the whole segment and keep it. */
  onComplete(d: Download): void;
  onBadPeer(peerId: string, reason: string): void;
  /**
   * Piece `piece` of `d` is not to be asked of `link` now (a parent pushes it: client/swarm/feeds.ts);
   * with `link` undefined, not of any peer.
   */
  skip?(link: PeerLink | undefined, d: Download, piece: number, nowMs: number): boolean;
}

/** Segments assembled at once (live: the few around the edge; VOD: the window ahead of the player). */
const MAX_ACTIVE = 8;
/** Piece requests this page has out at once over all links. */
const MAX_PENDING_TOTAL = 64;
/** After a `busy` answer, ask the same peer again this much later. */
const RETRY_MS = 150;

/**
 * Downloads in pieces: for each ready link with room in its pipeline, the next piece to ask it
 * for (client/swarm/piece-picker.ts), the answers checked into the segment's PieceCopy, and
 * the hash list fetched once from whichever peer sends the first piece.
 */
export class Downloads {
  private readonly active = new Map<string, Download>();
  /** Segments whose published root could not be found: their pieces cannot be checked. */
  private readonly unverifiable = new Set<string>();
  private scheduled = false;
  private retryTimer: unknown;
  private pendingTotal = 0;
  private destroyed = false;

  constructor(private readonly env: DownloadsEnv) {}

  get(id: string): Download | undefined {
    return this.active.get(id);
  }

  get size(): number {
    return this.active.size;
  }

  values(): IterableIterator<Download> {
    return this.active.values();
  }

  /** Starts assembling `id` of `total` bytes (as announced), unless it cannot be or is already. */
  start(id: string, seq: number, total: number): Download | undefined {
    const running = this.active.get(id);
    if (running) return running;
    if (this.destroyed || this.unverifiable.has(id) || this.active.size >= MAX_ACTIVE) return undefined;
    const copy = new PieceCopy(id, seq, total, this.env.pieceBytes, this.env.digest);
    const d: Download = { copy, asked: new Map(), expectedAtMs: new Map(), urgentUntil: undefined, hop: MAX_HOP, listAsked: new Set(), senders: new Set(), originBytes: 0, filled: false, completing: false };
    this.active.set(id, d);
    this.schedule();
    return d;
  }

  /** Stops assembling `id`: its requests are cancelled and its waiters woken. */
  drop(id: string): void {
    const d = this.active.get(id);
    if (!d) return;
    this.active.delete(id);
    for (const byLink of d.asked.values()) for (const a of byLink.values()) a.abort();
    d.asked.clear();
    d.copy.close();
  }

  /** Live: segments below `seq` are of no use any more. */
  dropBelow(seq: number): void {
    for (const d of [...this.active.values()]) if (d.copy.seq < seq) this.drop(d.copy.id);
  }

  /** Cancels outstanding requests for `id` (the origin fills the rest) but keeps what arrived. */
  cancelRequests(id: string): void {
    const d = this.active.get(id);
    if (!d) return;
    for (const byLink of d.asked.values()) for (const a of byLink.values()) a.abort();
  }

  destroy(): void {
    this.destroyed = true;
    this.env.clock.clearTimeout(this.retryTimer);
    for (const id of [...this.active.keys()]) this.drop(id);
  }

  /** Something changed (an announcement, an answer, a new segment): fill the links' pipelines soon. */
  schedule(): void {
    if (this.scheduled || this.destroyed) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /**
   * `link` is pushing piece `piece` of `id`: it counts as asked of that link, and a request for it
   * elsewhere is cancelled (the pushed frame follows at once). False when the piece is not wanted
   * (here, arriving, or no such copy).
   */
  expectPush(link: PeerLink, id: string, piece: number): boolean {
    const d = this.active.get(id);
    if (!d || piece >= d.copy.pieces || d.copy.arrived(piece) || d.asked.get(piece)?.has(link)) return false;
    let byLink = d.asked.get(piece);
    if (byLink) for (const a of byLink.values()) a.abort();
    if (!byLink || byLink.size === 0) {
      d.asked.set(piece, (byLink = new Map()));
      d.expectedAtMs.set(piece, this.env.clock.now());
    }
    byLink.set(link, new AbortController());
    return true;
  }

  /**
   * A hash list the origin's publisher handed out (a head's, before any peer has one): checked
   * against the published root like any other. False when it does not match or is unknown.
   */
  async originList(d: Download, list: Uint8Array): Promise<boolean> {
    if (d.copy.hashList !== undefined) return true;
    if ((await this.env.verifyList(d.copy.id, list)) !== 'ok') return false;
    if (this.active.get(d.copy.id) !== d) return false;
    if (d.copy.hashList === undefined) await this.applyList(d, list);
    return true;
  }

  /** Origin bytes of pieces `first..last` of `d`: kept (no check needed), told to peers and children like any verified piece. */
  addOrigin(d: Download, first: number, last: number, bytes: Uint8Array): void {
    if (this.active.get(d.copy.id) !== d) return;
    const had = new Set<number>();
    for (let i = first; i <= last; i++) if (d.copy.have.has(i)) had.add(i);
    if (d.copy.addOriginRange(first, last, bytes) === 0) return;
    d.originBytes += bytes.byteLength;
    this.env.stats.originBytes += bytes.byteLength;
    d.hop = 0;
    // The requests for these pieces elsewhere are not needed any more.
    for (let i = first; i <= last; i++) for (const a of d.asked.get(i)?.values() ?? []) a.abort();
    for (let i = first; i <= last; i++) if (!had.has(i)) this.verified(d, i);
    this.schedule();
  }

  /** The piece `link` pushed arrived (or, `bytes` undefined, will not). */
  pushed(link: PeerLink, id: string, piece: number, total: number, bytes: Uint8Array | undefined): void {
    const d = this.active.get(id);
    if (!d) return;
    const byLink = d.asked.get(piece);
    if (byLink?.delete(link) && byLink.size === 0) {
      d.asked.delete(piece);
      d.expectedAtMs.delete(piece);
    }
    if (bytes === undefined || total !== d.copy.total) return this.schedule();
    void this.answer(link, d, piece, { ok: true, bytes });
  }

  /** A hash list from `link` for `id`. */
  async onHashes(link: PeerLink, id: string, list: Uint8Array): Promise<void> {
    const d = this.active.get(id);
    if (!d || d.copy.hashList !== undefined) return;
    const verdict = await this.env.verifyList(id, list);
    if (this.active.get(id) !== d || d.copy.hashList !== undefined) return;
    if (verdict === 'mismatch') {
      this.env.stats.rejectedSegments++;
      this.env.onBadPeer(link.peerId, 'hash list does not match the published root');
      return this.schedule();
    }
    if (verdict === 'unknown') {
      // No published root to check it against: nothing from peers can be used for this segment.
      this.env.stats.unverifiedSegments++;
      this.unverifiable.add(id);
      if (this.unverifiable.size > 256) this.unverifiable.delete(this.unverifiable.values().next().value!);
      return this.drop(id);
    }
    await this.applyList(d, list);
  }

  /** A checked hash list: the pieces held for it are checked now, and the senders of bad ones banned. */
  private async applyList(d: Download, list: Uint8Array): Promise<void> {
    const before = new Set(d.copy.missing());
    const bad = await d.copy.setList(list);
    for (const peer of bad) this.badPiece(peer);
    for (const i of before) if (d.copy.have.has(i)) this.verified(d, i);
    this.schedule();
  }

  private pump(): void {
    if (this.destroyed || this.active.size === 0) return;
    const now = this.env.clock.now();
    // Per segment, once: the pieces any peer may be asked for (a stripe's parent pushes the rest).
    // A segment with none, and no player waiting (no endgame), needs no link's attention.
    const candidates = new Map<Download, Candidates>();
    for (const d of this.active.values()) {
      if (d.copy.complete || d.copy.isClosed) continue;
      const open: number[] = [];
      for (let i = 0; i < d.copy.pieces; i++) if (!d.copy.arrived(i) && !d.asked.has(i) && !this.env.skip?.(undefined, d, i, now)) open.push(i);
      const late = latePieces(d, now);
      if (open.length > 0 || late.length > 0) candidates.set(d, { open, late, holders: new Map() });
    }
    const order = [...candidates.keys()].sort(byPriority);
    if (order.length === 0) return;
    let busyLeft = false;
    for (const link of this.env.links()) {
      if (!link.isReady) continue;
      if (link.recentlyBusy) {
        busyLeft = true;
        continue;
      }
      let room = targetPending(link, this.env.pieceBytes) - link.activePulls;
      while (room > 0 && this.pendingTotal < MAX_PENDING_TOTAL) {
        const pick = pickPiece(link, order, this.env.links(), now, this.env.pieceBytes, Math.random, this.env.skip && ((d, i) => this.env.skip!(link, d, i, now)), candidates);
        if (!pick) break;
        this.request(link, pick.d, pick.piece);
        room--;
      }
    }
    // Holders that answered busy are asked again once their back-off is over.
    if (busyLeft && this.retryTimer === undefined) {
      this.retryTimer = this.env.clock.setTimeout(() => {
        this.retryTimer = undefined;
        this.schedule();
      }, RETRY_MS);
    }
  }

  private request(link: PeerLink, d: Download, piece: number): void {
    const abort = new AbortController();
    let byLink = d.asked.get(piece);
    if (!byLink) {
      d.asked.set(piece, (byLink = new Map()));
      d.expectedAtMs.set(piece, this.env.clock.now() + expectedMs(link, this.env.pieceBytes));
    }
    byLink.set(link, abort);
    const wantList = d.copy.hashList === undefined && !d.listAsked.has(link);
    if (wantList) d.listAsked.add(link);
    this.pendingTotal++;
    const timeout = requestTimeoutMs(link, this.env.pieceBytes);
    void link.requestPiece(d.copy.id, piece, timeout, wantList, abort.signal).then((r) => {
      this.pendingTotal--;
      if (d.asked.get(piece)?.get(link) === abort) {
        byLink.delete(link);
        if (byLink.size === 0) {
          d.asked.delete(piece);
          d.expectedAtMs.delete(piece);
        }
      }
      if (wantList) d.listAsked.delete(link);
      void this.answer(link, d, piece, r);
    });
  }

  private async answer(link: PeerLink, d: Download, piece: number, r: PieceResult): Promise<void> {
    if (!r.ok) return this.schedule();
    this.env.stats.peerBytes += r.bytes.byteLength;
    if (this.active.get(d.copy.id) !== d) return;
    // The other request for this piece (endgame) is not needed any more.
    for (const a of d.asked.get(piece)?.values() ?? []) a.abort();
    const hop = Math.min(MAX_HOP, (link.remoteHas.get(d.copy.id)?.hop ?? MAX_HOP - 1) + 1);
    const verdict = await d.copy.addPeerPiece(piece, r.bytes, link.peerId);
    if (verdict === 'bad') this.badPiece(link.peerId);
    else if (verdict === 'ok' || verdict === 'held') {
      d.senders.add(link.peerId);
      d.hop = Math.min(d.hop, hop);
      if (verdict === 'ok') this.verified(d, piece);
    }
    this.schedule();
  }

  private verified(d: Download, piece: number): void {
    this.env.onPiece(d, piece);
    if (d.copy.complete) this.env.onComplete(d);
  }

  private badPiece(peerId: string): void {
    this.env.stats.rejectedSegments++;
    this.env.onBadPeer(peerId, 'piece does not match the published hashes');
  }
}

/** A player's segment first (earliest deadline), then the oldest segment. */
function byPriority(a: Download, b: Download): number {
  const ua = a.urgentUntil ?? Infinity;
  const ub = b.urgentUntil ?? Infinity;
  return ua !== ub ? ua - ub : a.copy.seq - b.copy.seq;
}

