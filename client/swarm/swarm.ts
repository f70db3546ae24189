import { putBounded } from '../../protocol/bounded.js';
import { MAX_HOP, type FreshSegment, type MissReason, type SegmentInfo } from '../../protocol/peer.js';
import { PIECE_BYTES, pieceSpan } from '../../protocol/pieces.js';
import type { ByteRange } from '../../protocol/segment-id.js';
import type { PlaylistUpdate } from '../../protocol/worker.js';
import type { RelaycastConfig } from '../config.js';
import { realClock, type Clock } from '../core/clock.js';
import type { Verdict } from '../core/integrity.js';
import type { RelaycastStats } from '../core/stats.js';
import { hashList, subtleDigest, type Digest } from '../storage/piece-copy.js';
import type { SegmentStore, StoredSegment } from '../storage/store.js';
import { KEEPALIVE_MS, type LinkHandler, type PeerLink, type PieceRequest } from '../transport/peer-link.js';
import { Announcer } from './announcer.js';
import { Downloads, type Download } from './downloads.js';
import { originRuns } from './fill.js';
import { OriginRate } from './origin-rate.js';
import { Pusher, type Holding } from './pusher.js';
import { Owners, type OwnersConfig } from './owners.js';
import { SegmentBook } from './segment-book.js';
import type { Uploader } from './uploader.js';
import { raceTimeout, Waiters } from './waiters.js';

export type SwarmConfig = OwnersConfig & Partial<Pick<RelaycastConfig, 'relayWhileReceiving'>>;

export interface SwarmEnv {
  /** This page's peer id, or undefined before signaling opened. */
  readonly selfId: () => string | undefined;
  /**
   * Fetches a known segment (or byte range) from the origin through the worker (counted there);
   * `part`: only these bytes of it (offsets within the segment), for the pieces no peer delivered.
   */
  readonly originFetch: (url: string, range?: ByteRange, part?: ByteRange) => Promise<Uint8Array | undefined>;
  readonly stats: RelaycastStats;
  /** The page's uplink, shared by its swarms. */
  readonly uploader: Uploader;
  /** Upload consent right now (config, runtime API, Save-Data). */
  readonly uploadAllowed: () => boolean;
  /** Observes every copy stored, with its hop count (measurement: the simulator's hop histogram). */
  readonly onStored?: (id: string, hop: number, bytes: Uint8Array) => void;
  /** Every segment kept in the store (VOD: the optional disk cache keeps it too). */
  readonly onKept?: (seg: StoredSegment) => void;
  /** Live: read this swarm's manifest again now: a peer's playlist lists a segment this page is to fetch. */
  readonly refreshManifest?: () => void;
  /** Checks a whole segment against the origin's published hash. */
  readonly verify: (id: string, bytes: Uint8Array) => Promise<Verdict>;
  /** Checks a segment's hash list against the origin's published piece root. */
  readonly verifyList: (id: string, list: Uint8Array) => Promise<Verdict>;
  /** A peer sent bytes that failed verification: drop it and never use it again. */
  readonly onBadPeer: (peerId: string, reason: string) => void;
  /** Piece size (protocol/pieces.ts PIECE_BYTES; the simulator, whose segments carry fewer real bytes, scales it). */
  readonly pieceBytes?: number;
  /** SHA-256 (default WebCrypto). */
  readonly digest?: Digest;
}

/** `steps`: what the wait went to, in order (`inflight@ms`, `pieces:k/n@ms`, `have?<owners>@ms`, `fill:k@ms`), for diagnostics. */
export type GetResult =
  | { readonly hit: true; readonly bytes: Uint8Array; readonly steps: readonly string[] }
  | { readonly hit: false; readonly reason: string; readonly steps: readonly string[] };

/** Beyond one playlist refresh, how long an owner may take to fetch a new segment and announce it. */
const OWNER_GRACE_EXTRA_MS = 1500;
/** A player request re-checks its segment at least this often while pieces arrive. */
const CHECK_MS = 250;
/** Steps of one request kept for diagnostics. */
const MAX_TRACE_STEPS = 8;
/** VOD: a peer that announced one of the previous segments this recently plays right here: its copy is worth waiting for. */
const VOD_NEAR_SEGMENTS = 2;
/** Hash lists of stored segments kept for peers that ask (a few live windows). */
const LISTS_KEPT = 32;

/**
 * One swarm: the viewers of one rendition of one stream. For each new segment it decides
 * whether this page fetches it from the origin for everyone (owners.ts) or assembles it from
 * peers' pieces before its player asks (downloads.ts); it answers the player within a deadline,
 * filling from the origin only the pieces no peer delivered in time; and it serves the pieces
 * it holds (uploader.ts), telling peers what it has (announcer.ts).
 */
export class Swarm implements LinkHandler {
  readonly links = new Map<string, PeerLink>();
  private readonly book = new SegmentBook();
  private readonly owners: Owners;
  private readonly downloads: Downloads;
  private readonly announcer: Announcer;
  private readonly haveWaiters = new Waiters();
  /** How fast the origin answers this page: a fill of missing pieces starts early enough to be done by the deadline. */
  private readonly originRate = new OriginRate();
  /** Origin fetches and whole-segment checks under way: a player request waits for them. */
  private readonly inflight = new Map<string, Promise<boolean>>();
  private readonly lists = new Map<string, Promise<Uint8Array>>();
  /** Segments peers told us of (`fresh`) before our own playlist listed them. */
  private readonly heard = new Map<string, number>();
  /** The newest sequence number a `fresh` notice made us read the manifest for. */
  private refreshedSeq = -1;
  private readonly pieceBytes: number;
  private readonly digest: Digest;
  private readonly pusher: Pusher;
  private readonly stopPushing: () => void;
  private keepaliveTimer: unknown;
  private destroyed = false;

  constructor(
    readonly id: string,
    private readonly cfg: SwarmConfig,
    private readonly store: SegmentStore,
    private readonly env: SwarmEnv,
    private readonly clock: Clock = realClock,
  ) {
    this.pieceBytes = env.pieceBytes ?? PIECE_BYTES;
    this.digest = env.digest ?? subtleDigest;
    this.owners = new Owners(cfg, clock, env.selfId, this.links);
    const ready = (): PeerLink[] => [...this.links.values()].filter((l) => l.isReady);
    this.downloads = new Downloads({
      clock,
      pieceBytes: this.pieceBytes,
      digest: this.digest,
      stats: env.stats,
      links: ready,
      verifyList: env.verifyList,
      onPiece: (d, piece) => {
        this.announcer.piece(d, piece);
        env.uploader.kick();
      },
      onComplete: (d) => this.track(d.copy.id, this.completed(d)),
      onBadPeer: env.onBadPeer,
    });
    this.announcer = new Announcer(clock, ready, (hop, partial) =>
      // Whatever its depth: a copy not announced is one peers keep asking for or pushing.
      env.uploadAllowed() && (!partial || cfg.relayWhileReceiving !== false),
    );
    this.pusher = new Pusher({ uploadAllowed: env.uploadAllowed, links: ready, holdings: () => this.holdings() });
    this.stopPushing = env.uploader.addPushSource(() => this.pusher.next());
    this.keepaliveTimer = clock.setTimeout(() => this.keepalive(), KEEPALIVE_MS);
  }

  /** One timer per swarm (not per link) drives every link's keepalive and dead-peer check. */
  private keepalive(): void {
    if (this.destroyed) return;
    for (const l of [...this.links.values()]) l.keepalive();
    this.keepaliveTimer = this.clock.setTimeout(() => this.keepalive(), KEEPALIVE_MS / 2);
  }

  // ---- from the worker ----

  onPlaylist(p: PlaylistUpdate): void {
    const { fresh, first } = this.book.update(p, this.clock.now());
    if (!p.live) {
      // VOD: the segment the player just asked for and the next few; the next ones are prepared.
      for (const s of p.segments.slice(1)) this.prepare(s.id, s.url, s.seq, s.range);
      return;
    }
    if (fresh.length === 0) return;
    this.store.advance(this.book.newestSeq);
    const floor = this.store.floorSeq;
    for (const l of this.links.values()) l.forgetHaveBelow(floor);
    this.downloads.dropBelow(floor);
    // On joining, only the live edge is worth preparing; the player fetches its startup segments itself.
    for (const s of first ? fresh.slice(-1) : fresh) this.prepare(s.id, s.url, s.seq, s.range);
    if (!first) this.tellFresh(fresh);
  }

  /** The worker fetched this segment from the origin for the player (in `fetchMs`, when it said): keep it for peers. */
  onOriginCopy(id: string, seq: number, bytes: Uint8Array, fetchMs?: number): void {
    if (fetchMs !== undefined) this.originRate.record(bytes.byteLength, fetchMs);
    this.env.stats.originBytes += bytes.byteLength;
    this.env.stats.deliveredOriginBytes += bytes.byteLength;
    this.keep({ id, seq, bytes, source: 'origin', hop: 0 });
  }

  /**
   * A segment kept from an earlier visit (VOD disk cache): stored and announced like any other
   * once it matched the published hash again (the disk is the viewer's, not ours).
   */
  async restore(seg: StoredSegment): Promise<boolean> {
    if (this.store.has(seg.id) || (await this.env.verify(seg.id, seg.bytes)) !== 'ok' || this.store.has(seg.id)) return false;
    this.keep({ ...seg, source: 'cache' });
    return true;
  }

  /** The duration of segment `id` as its playlist said (ms), else the playlist's target duration. */
  segmentMs(id: string): number {
    const d = this.book.get(id)?.durationSec;
    return d !== undefined && d > 0 ? d * 1000 : this.book.targetDurationMs;
  }

  /** A complete copy of `id` is in the store. */
  hasStored(id: string): boolean {
    return this.store.has(id);
  }

  /** The player asked for `id`. Answer from the store or peers within `deadlineMs`, or miss. */
  async get(id: string, seq: number, deadlineMs: number): Promise<GetResult> {
    const start = this.clock.now();
    const end = start + deadlineMs;
    const left = (): number => end - this.clock.now();
    const steps: string[] = [];
    const step = (what: string): void => {
      if (steps.length < MAX_TRACE_STEPS) steps.push(`${what}@${Math.round(this.clock.now() - start)}`);
    };
    let seen: unknown;
    for (;;) {
      const local = this.store.get(id);
      if (local) return this.deliver(local, steps);
      const running = this.inflight.get(id);
      if (running) {
        if (left() <= 0) return this.miss('no time', steps);
        if (seen !== running) step('inflight');
        seen = running;
        await raceTimeout(this.clock, running, left());
        continue;
      }
      const d = this.downloads.get(id) ?? this.startDownload(id);
      if (d) {
        if (seen !== d) step(`pieces:${d.copy.have.count}/${d.copy.pieces}`);
        seen = d;
        // The origin must have sent what is missing by the deadline: the fill starts that long before it.
        const lead = this.originRate.predictMs(d.copy.total - d.copy.have.count * this.pieceBytes);
        d.urgentUntil = Math.min(d.urgentUntil ?? Infinity, end - lead);
        // (Within a millisecond of it counts as there: a timer for less may fire at the same instant, over and over.)
        if (left() - lead < 1) return this.fill(d, steps);
        this.downloads.schedule();
        await raceTimeout(this.clock, d.copy.next(), Math.min(left() - lead, CHECK_MS));
        continue;
      }
      if (left() <= 0) return this.miss('no time', steps);
      // Nobody has it yet. Wait for its owner to fetch and announce it, if the owner is a peer.
      const self = this.env.selfId();
      const own = this.owners.of(id);
      if (self === undefined || own.includes(self) || own.length === 0) return this.miss('owner is self', steps);
      // VOD: an owner elsewhere in the video never fetches this one; wait only for a peer playing right here.
      if (this.book.vod && !this.peerNear(seq)) return this.miss('no peer near', steps);
      // In a full mesh the owner is a direct peer: it sees a new segment within one playlist refresh
      // of us. Past that grace it is gone or stuck: do not spend the player's buffer on it. In a
      // larger swarm the pieces come over several hops: wait for any peer's `have` until the deadline.
      const firstSeen = this.book.get(id)?.firstSeenMs;
      const grace = firstSeen === undefined || this.owners.usesSeeders ? left() : firstSeen + this.book.targetDurationMs + OWNER_GRACE_EXTRA_MS - this.clock.now();
      step(`have?${own.map((o) => o.slice(0, 4)).join('+')}`);
      if (!(await this.haveWaiters.wait(this.clock, id, Math.min(left(), grace)))) return this.miss('not announced in time', steps);
    }
  }

  // ---- peer links ----

  addLink(link: PeerLink): void {
    this.links.get(link.peerId)?.close('replaced');
    this.links.set(link.peerId, link);
  }

  onReady(link: PeerLink): void {
    // A page that does not upload announces nothing: every request would be a wasted round trip.
    if (!this.env.uploadAllowed()) return;
    const have: SegmentInfo[] = this.store.list().map((s) => ({ id: s.id, seq: s.seq, bytes: s.bytes.byteLength, hop: s.hop }));
    if (this.cfg.relayWhileReceiving !== false) {
      for (const d of this.downloads.values()) {
        if (d.copy.have.count > 0 && !d.copy.complete) have.push({ id: d.copy.id, seq: d.copy.seq, bytes: d.copy.total, hop: d.hop, pieces: d.copy.have.encode() });
      }
    }
    if (have.length > 0) link.announce(have);
    this.downloads.schedule();
  }

  onHave(link: PeerLink, segments: readonly SegmentInfo[]): void {
    for (const s of segments) {
      this.book.onAnnounced(s.id, s.bytes);
      if (!link.remoteHas.has(s.id)) continue;
      this.haveWaiters.wake(s.id);
      if (this.book.wanted(s.id, s.seq)) this.startDownload(s.id);
    }
    this.downloads.schedule();
    // The peer's holdings changed: it may lack something this page could push.
    this.env.uploader.kick();
  }

  onRequest(link: PeerLink, r: PieceRequest): MissReason | undefined {
    if (!this.env.uploadAllowed()) return 'no-upload';
    const stored = this.store.get(r.id);
    const d = stored ? undefined : this.downloads.get(r.id);
    const total = stored?.bytes.byteLength ?? d?.copy.total;
    if (total === undefined || (stored === undefined && d?.copy.piece(r.piece) === undefined)) return 'not-found';
    if (r.piece >= Math.ceil(total / this.pieceBytes)) return 'not-found';
    const id = r.id;
    return this.env.uploader.offer({
      link,
      reqId: r.reqId,
      seq: stored?.seq ?? d!.copy.seq,
      piece: r.piece,
      segmentId: id,
      source: () => this.pieceOf(id, r.piece),
      ...(r.hashes ? { hashList: () => this.listOf(id) } : {}),
    });
  }

  onCancel(link: PeerLink, reqId: number): void {
    this.env.uploader.cancel(link, reqId);
  }

  onHashes(link: PeerLink, id: string, list: Uint8Array): void {
    void this.downloads.onHashes(link, id, list);
  }

  onPush(link: PeerLink, id: string, piece: number): boolean {
    if (!this.downloads.get(id)) this.startDownload(id);
    return this.downloads.expectPush(link, id, piece);
  }

  onPushed(link: PeerLink, id: string, piece: number, total: number, bytes: Uint8Array | undefined): void {
    this.downloads.pushed(link, id, piece, total, bytes);
  }

  onClose(link: PeerLink, reason: string): void {
    if (this.links.get(link.peerId) === link) this.links.delete(link.peerId);
    this.env.uploader.dropLink(link);
    this.announcer.forget(link);
    this.pusher.forget(link);
    this.downloads.schedule();
    // A peer that broke the protocol is not taken back when the tracker lists it again.
    if (reason.startsWith('protocol:')) this.env.onBadPeer(link.peerId, reason);
  }

  /** Ready, fit links' peer ids plus our own: the set owners are chosen from in a full mesh. */
  members(): string[] {
    return this.owners.members();
  }

  /** The tracker's answer: origin fetchers of the whole swarm and its size. Banned peers are already removed. */
  setSwarmView(seeders: readonly string[], fetchersPerSegment: number, swarmSize: number): void {
    this.owners.setView(seeders, fetchersPerSegment, swarmSize);
  }

  /** Viewers in the swarm as the tracker last said (0 before its first answer). */
  get trackerSwarmSize(): number {
    return this.owners.trackerSwarmSize;
  }

  /** Who fetches segment `id` from the origin for everyone (client/swarm/owners.ts). */
  originFetchersFor(id: string): string[] {
    return this.owners.of(id);
  }

  destroy(): void {
    this.destroyed = true;
    this.clock.clearTimeout(this.keepaliveTimer);
    this.stopPushing();
    this.announcer.destroy();
    this.downloads.destroy();
    for (const l of [...this.links.values()]) l.close('destroyed');
    this.links.clear();
    this.haveWaiters.wakeAll();
  }

  // ---- fresh notices ----

  /**
   * Tell peers about new segments nobody told us of: this page saw them first, and their
   * origin fetcher (a peer, most likely) then reads its manifest at once instead of at its own
   * playlist refresh, up to a segment duration later.
   */
  private tellFresh(fresh: readonly { readonly id: string; readonly seq: number }[]): void {
    const news: FreshSegment[] = [];
    for (const s of fresh) {
      if (this.heard.has(s.id)) continue;
      let announced = false;
      for (const l of this.links.values()) if (l.remoteHas.has(s.id)) announced = true;
      if (!announced) news.push({ id: s.id, seq: s.seq });
    }
    if (news.length === 0) return;
    for (const l of this.links.values()) if (l.isReady) l.tellFresh(news);
  }

  /**
   * A peer's playlist lists segments ours does not yet. If this page fetches the next one for
   * the swarm, it reads its manifest now. Only the next sequence numbers count, once each, so a
   * lying peer costs at most a manifest read or two per segment.
   */
  onFresh(_link: PeerLink, segments: readonly FreshSegment[]): void {
    const newest = this.book.newestSeq;
    for (const s of segments) {
      if (this.book.has(s.id) || this.store.has(s.id) || this.inflight.has(s.id)) continue;
      putBounded(this.heard, s.id, s.seq, 256);
      if (this.book.vod || newest < 0 || s.seq <= newest || s.seq > newest + 2 || s.seq <= this.refreshedSeq) continue;
      if (!this.owners.isOwner(s.id)) continue;
      this.refreshedSeq = s.seq;
      this.env.refreshManifest?.();
    }
  }

  // ---- internals ----

  /** A new segment appeared in the playlist: fetch it for the swarm if we own it, else assemble it from peers. */
  private prepare(id: string, url: string, seq: number, range?: ByteRange): void {
    if (this.store.has(id) || this.inflight.has(id) || this.downloads.get(id)) return;
    if (this.owners.isOwner(id)) {
      const t0 = this.clock.now();
      const job = this.env.originFetch(url, range).then((bytes) => {
        if (!bytes) return false;
        this.originRate.record(bytes.byteLength, this.clock.now() - t0);
        this.env.stats.originBytes += bytes.byteLength;
        this.keep({ id, seq, bytes, source: 'origin', hop: 0 });
        return true;
      });
      this.track(id, job);
      return;
    }
    this.startDownload(id);
  }

  /**
   * Starts assembling `id` from pieces once a ready peer announced it, if this page's playlist
   * lists it, or, live, if it is one of the next few segments (a peer's playlist shows it before
   * ours does) and named like the segments the playlist lists: a peer cannot make this page
   * spend its downloads on ids of its own invention.
   */
  private startDownload(id: string): Download | undefined {
    if (this.store.has(id) || this.inflight.has(id)) return undefined;
    for (const l of this.links.values()) {
      const r = l.isReady ? l.remoteHas.get(id) : undefined;
      if (r && (this.book.has(id) || this.book.plausible(id, r.seq))) return this.downloads.start(id, r.seq, r.bytes);
    }
    return undefined;
  }

  /** Every piece arrived: the whole segment is checked against the published hash before anyone sees it. */
  private async completed(d: Download): Promise<boolean> {
    const { copy } = d;
    if (d.completing) return false;
    d.completing = true;
    const verdict = await this.env.verify(copy.id, copy.bytes);
    this.downloads.drop(copy.id);
    if (verdict !== 'ok') {
      if (verdict === 'mismatch') this.env.stats.rejectedSegments++;
      else this.env.stats.unverifiedSegments++;
      return false;
    }
    const list = copy.hashList;
    if (list) putBounded(this.lists, copy.id, Promise.resolve(list), LISTS_KEPT);
    if (d.senders.size >= 2) this.env.stats.segmentsFromSeveralPeers++;
    if (d.originBytes > 0) this.env.stats.filledSegments++;
    const originBytes = d.originBytes;
    this.keep({ id: copy.id, seq: copy.seq, bytes: copy.bytes, source: originBytes >= copy.total ? 'origin' : 'peer', hop: d.hop, originBytes });
    return true;
  }

  /**
   * The deadline came with pieces missing: the origin sends just those (byte ranges), the copy
   * is checked whole and the player gets it. With no piece from peers at all, the worker's own
   * origin fetch is as quick: a miss.
   */
  private async fill(d: Download, steps: string[]): Promise<GetResult> {
    this.downloads.cancelRequests(d.copy.id);
    const missing = d.copy.missing();
    if (missing.length === d.copy.pieces) {
      this.downloads.drop(d.copy.id);
      return this.miss('no time', steps);
    }
    const known = this.book.get(d.copy.id);
    if (!known) return this.miss('not listed', steps);
    if (steps.length < MAX_TRACE_STEPS) steps.push(`fill:${missing.length}`);
    const job = (async (): Promise<boolean> => {
      const runs = originRuns(missing);
      const got = await Promise.all(
        runs.map(async ([first, last]) => {
          const part = { start: pieceSpan(first, d.copy.total, this.pieceBytes).start, end: pieceSpan(last, d.copy.total, this.pieceBytes).end - 1 };
          const t0 = this.clock.now();
          const bytes = await this.env.originFetch(known.url, known.range, part);
          if (!bytes || bytes.byteLength !== part.end - part.start + 1) return false;
          this.originRate.record(bytes.byteLength, this.clock.now() - t0);
          this.env.stats.originBytes += bytes.byteLength;
          d.originBytes += bytes.byteLength;
          d.copy.addOriginRange(first, last, bytes);
          return true;
        }),
      );
      if (!got.every(Boolean) || !d.copy.complete) {
        this.downloads.drop(d.copy.id);
        return false;
      }
      return this.completed(d);
    })();
    this.track(d.copy.id, job);
    await job;
    const local = this.store.get(d.copy.id);
    return local ? this.deliver(local, steps) : this.miss('fill failed', steps);
  }

  /** VOD: a ready peer announced one of the segments just before `seq`, so it plays here and will have `seq` soon. */
  private peerNear(seq: number): boolean {
    for (const l of this.links.values()) {
      if (!l.isReady) continue;
      for (const h of l.remoteHas.values()) if (h.seq < seq && h.seq >= seq - VOD_NEAR_SEGMENTS) return true;
    }
    return false;
  }

  private track(id: string, job: Promise<boolean>): void {
    const guarded = job.catch(() => false);
    this.inflight.set(id, guarded);
    void guarded.then(() => {
      if (this.inflight.get(id) === guarded) this.inflight.delete(id);
    });
  }

  /** Store and tell every peer that lacks it. */
  private keep(seg: StoredSegment): void {
    this.downloads.drop(seg.id);
    if (!this.store.put(seg)) return;
    this.book.onStored(seg.id, seg.bytes.byteLength);
    this.env.onStored?.(seg.id, seg.hop, seg.bytes);
    this.env.onKept?.(seg);
    this.announcer.whole({ id: seg.id, seq: seg.seq, bytes: seg.bytes.byteLength, hop: seg.hop });
    this.haveWaiters.wake(seg.id);
  }

  /**
   * What this page can push (client/swarm/pusher.ts): live, the segments from one before the
   * newest listed on, newest first, whole in the store or verified pieces of copies arriving.
   */
  private holdings(): Holding[] {
    if (this.book.vod || this.book.newestSeq < 0 || this.destroyed) return [];
    const from = this.book.newestSeq - 1;
    const out: Holding[] = [];
    for (const seg of this.store.list()) {
      if (seg.seq < from) continue;
      const total = seg.bytes.byteLength;
      out.push({
        id: seg.id,
        seq: seg.seq,
        total,
        pieces: Math.ceil(total / this.pieceBytes),
        has: () => true,
        bytes: (i) => this.pieceOf(seg.id, i)?.bytes,
        hashList: () => this.listOf(seg.id),
      });
    }
    if (this.cfg.relayWhileReceiving !== false) {
      for (const d of this.downloads.values()) {
        if (d.copy.seq < from || d.copy.have.count === 0 || d.copy.complete || d.copy.hashList === undefined) continue;
        const { copy } = d;
        out.push({ id: copy.id, seq: copy.seq, total: copy.total, pieces: copy.pieces, has: (i) => copy.have.has(i), bytes: (i) => copy.piece(i), hashList: () => Promise.resolve(copy.hashList) });
      }
    }
    return out.sort((a, b) => b.seq - a.seq);
  }

  /** Piece `piece` of a held segment (whole or verified piece of a partial copy), for upload. */
  private pieceOf(id: string, piece: number): { bytes: Uint8Array; total: number } | undefined {
    const stored = this.store.get(id);
    if (stored) {
      const { start, end } = pieceSpan(piece, stored.bytes.byteLength, this.pieceBytes);
      return start < end ? { bytes: stored.bytes.subarray(start, end), total: stored.bytes.byteLength } : undefined;
    }
    const d = this.downloads.get(id);
    const bytes = d?.copy.piece(piece);
    return d && bytes ? { bytes, total: d.copy.total } : undefined;
  }

  /** The hash list of a held segment: verified with its pieces, or computed from a whole copy. */
  private listOf(id: string): Promise<Uint8Array | undefined> {
    const d = this.downloads.get(id);
    if (d) return Promise.resolve(d.copy.hashList);
    const cached = this.lists.get(id);
    if (cached) return cached;
    const stored = this.store.get(id);
    if (!stored) return Promise.resolve(undefined);
    const list = hashList(stored.bytes, this.pieceBytes, this.digest);
    putBounded(this.lists, id, list, LISTS_KEPT);
    return list;
  }

  private deliver(seg: StoredSegment, steps: readonly string[]): GetResult {
    const n = seg.bytes.byteLength;
    if (seg.source === 'cache') this.env.stats.deliveredCacheBytes += n;
    else {
      const fromOrigin = seg.source === 'origin' ? n : Math.min(n, seg.originBytes ?? 0);
      this.env.stats.deliveredOriginBytes += fromOrigin;
      this.env.stats.deliveredPeerBytes += n - fromOrigin;
    }
    this.env.stats.peerHits++;
    return { hit: true, bytes: seg.bytes, steps };
  }

  private miss(reason: string, steps: readonly string[]): GetResult {
    this.env.stats.peerMisses++;
    return { hit: false, reason, steps };
  }
}
