import type { FreshSegment, MissReason, SegmentInfo } from '../../protocol/peer.js';
import { PIECE_BYTES } from '../../protocol/pieces.js';
import type { ByteRange } from '../../protocol/segment-id.js';
import type { PlaylistUpdate } from '../../protocol/worker.js';
import { realClock, type Clock } from '../core/clock.js';
import { subtleDigest } from '../storage/piece-copy.js';
import type { SegmentStore, StoredSegment } from '../storage/store.js';
import { KEEPALIVE_MS, type IncomingPushInfo, type LinkHandler, type PeerLink, type PieceRequest } from '../transport/peer-link.js';
import { Announcer } from './announcer.js';
import { Downloads, type Download } from './downloads.js';
import { FreshNotices } from './fresh-notices.js';
import { Holdings } from './holdings.js';
import { Intake } from './intake.js';
import { Jobs } from './jobs.js';
import { OriginRate } from './origin-rate.js';
import { Owners } from './owners.js';
import { PlayerRequests, type GetResult } from './player-requests.js';
import { Pusher } from './pusher.js';
import { SegmentBook } from './segment-book.js';
import { Trees } from './trees.js';
import { Waiters } from './waiters.js';
import type { SwarmConfig, SwarmEnv } from './swarm-env.js';

export type { GetResult } from './player-requests.js';

export type { SwarmConfig, SwarmEnv } from './swarm-env.js';

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
  private readonly jobs = new Jobs();
  private readonly holdings: Holdings;
  private readonly fresh: FreshNotices;
  private readonly requests: PlayerRequests;
  private readonly pieceBytes: number;
  private readonly pusher: Pusher;
  private readonly intake: Intake;
  /** The stripe trees (live): what this page feeds and is fed, read by the page for its tracker report and link budget. */
  readonly trees: Trees;
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
    const digest = env.digest ?? subtleDigest;
    this.owners = new Owners(cfg, clock, env.selfId, this.links);
    const ready = (): PeerLink[] => [...this.links.values()].filter((l) => l.isReady);
    this.downloads = new Downloads({
      clock,
      pieceBytes: this.pieceBytes,
      digest,
      stats: env.stats,
      links: ready,
      verifyList: env.verifyList,
      onPiece: (d, piece) => {
        this.announcer.piece(d, piece);
        this.trees.onPiece(d.copy.id, piece);
        env.uploader.kick();
      },
      skip: (link, d, piece, now) => this.trees.skip(link, d, piece, now),
      onComplete: (d) => void this.jobs.track(d.copy.id, this.intake.completed(d)),
      onBadPeer: env.onBadPeer,
    });
    this.announcer = new Announcer(clock, ready, (hop, partial) =>
      // Whatever its depth: a copy not announced is one peers keep asking for or pushing.
      env.uploadAllowed() && (!partial || cfg.relayWhileReceiving !== false),
    );
    const relayWhileReceiving = cfg.relayWhileReceiving !== false;
    this.holdings = new Holdings({ store, downloads: this.downloads, book: this.book, pieceBytes: this.pieceBytes, digest, relayWhileReceiving });
    this.fresh = new FreshNotices({
      links: () => this.links.values(),
      newestSeq: () => this.book.newestSeq,
      vod: () => this.book.vod,
      known: (id) => this.book.has(id) || store.has(id) || this.jobs.has(id),
      isOwner: (id) => (this.trees.enabled ? this.trees.headStripes() !== 0 : this.owners.isOwner(id)),
      ...(env.refreshManifest ? { refreshManifest: env.refreshManifest } : {}),
    });
    this.requests = new PlayerRequests({
      clock,
      pieceBytes: this.pieceBytes,
      stats: env.stats,
      store,
      book: this.book,
      owners: this.owners,
      downloads: this.downloads,
      jobs: this.jobs,
      announced: this.haveWaiters,
      originRate: this.originRate,
      links: () => this.links.values(),
      selfId: env.selfId,
      originFetch: env.originFetch,
      startDownload: (id) => this.startDownload(id),
      completed: (d) => this.intake.completed(d),
      feedsOn: () => this.trees.enabled,
      anyHead: () => this.owners.heads(id).some((h) => h.length > 0),
    });
    this.trees = new Trees({
      swarmId: id,
      inMesh: cfg.treesInMesh === true,
      clock,
      selfId: env.selfId,
      links: () => this.links.values(),
      uploadAllowed: env.uploadAllowed,
      uploader: env.uploader,
      owners: this.owners,
      book: this.book,
      holdings: this.holdings,
      downloads: this.downloads,
      stats: env.stats,
      originRate: this.originRate,
      pieceBytes: this.pieceBytes,
      ...(env.describe ? { describe: env.describe } : {}),
      originFetch: (url, range, part, why) => env.originFetch(url, range, part, why),
      fetchWhole: (sid, url, seq, range) => this.intake.fetchWhole(sid, url, seq, range),
      fits: (bytesPerSec) => env.feedFits?.(bytesPerSec) ?? false,
      unfit: (l) => this.owners.unfit(l),
    });
    this.pusher = new Pusher({ uploadAllowed: env.uploadAllowed, links: ready, holdings: () => (this.destroyed ? [] : this.holdings.pushable()) });
    this.intake = new Intake({
      clock,
      stats: env.stats,
      store,
      book: this.book,
      downloads: this.downloads,
      announcer: this.announcer,
      trees: this.trees,
      jobs: this.jobs,
      holdings: this.holdings,
      originRate: this.originRate,
      haveWaiters: this.haveWaiters,
      originFetch: env.originFetch,
      verify: env.verify,
      ...(env.onStored ? { onStored: env.onStored } : {}),
      ...(env.onKept ? { onKept: env.onKept } : {}),
    });
    // Pieces travel down the stripe trees where they are used (an idle uplink's pushes added 0.7 % offload there for a tenth of the simulator's CPU).
    this.stopPushing = env.uploader.addPushSource(() => (this.trees.enabled ? undefined : this.pusher.next()));
    this.keepaliveTimer = clock.setTimeout(() => this.keepalive(), KEEPALIVE_MS);
  }

  /** One timer per swarm (not per link) drives every link's keepalive and dead-peer check. */
  private keepalive(): void {
    if (this.destroyed) return;
    for (const l of [...this.links.values()]) l.keepalive();
    this.trees.tick();
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
    if (!first) this.fresh.tell(fresh);
  }

  /** The worker fetched this segment from the origin for the player (in `fetchMs`, when it said): keep it for peers. */
  onOriginCopy(id: string, seq: number, bytes: Uint8Array, fetchMs?: number): void {
    this.intake.onOriginCopy(id, seq, bytes, fetchMs);
  }

  /** A segment kept from an earlier visit (VOD disk cache), once it matched the published hash again. */
  restore(seg: StoredSegment): Promise<boolean> {
    return this.intake.restore(seg);
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

  /** The player asked for `id`. Answer from the store or peers within `deadlineMs`, or miss (client/swarm/player-requests.ts). */
  get(id: string, seq: number, deadlineMs: number): Promise<GetResult> {
    return this.requests.get(id, seq, deadlineMs);
  }

  // ---- peer links ----

  addLink(link: PeerLink): void {
    this.links.get(link.peerId)?.close('replaced');
    this.links.set(link.peerId, link);
  }

  onReady(link: PeerLink): void {
    this.trees.onReady(link);
    // A page that does not upload announces nothing: every request would be a wasted round trip.
    if (!this.env.uploadAllowed()) return;
    const have = this.holdings.announceable();
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
    const id = r.id;
    const held = this.holdings.canServe(id, r.piece);
    if (!held) return 'not-found';
    return this.env.uploader.offer({
      link,
      reqId: r.reqId,
      seq: held.seq,
      piece: r.piece,
      segmentId: id,
      source: () => this.holdings.pieceOf(id, r.piece),
      ...(r.hashes ? { hashList: () => this.holdings.listOf(id) } : {}),
    });
  }

  onCancel(link: PeerLink, reqId: number): void {
    this.env.uploader.cancel(link, reqId);
  }
  onHashes(link: PeerLink, id: string, list: Uint8Array): void {
    void this.downloads.onHashes(link, id, list);
  }

  onPush(link: PeerLink, p: IncomingPushInfo): boolean {
    const { id, seq } = p;
    if (!this.downloads.get(id) && !this.store.has(id) && !this.jobs.has(id) && (this.book.has(id) || this.book.plausible(id, seq))) {
      if (this.downloads.start(id, seq, p.bytes)) this.haveWaiters.wake(id);
    }
    return this.downloads.expectPush(link, id, p.piece);
  }

  /** Stripe-tree messages (client/swarm/trees.ts): a peer's place in the trees changed; a `sub`; a `feed`. */
  onTree(_link: PeerLink): void {
    this.trees.feeds.tick();
  }
  onSub(link: PeerLink, s: number, on: boolean, interior: boolean): void {
    this.trees.onSub(link, s, on, interior);
  }
  onFeed(link: PeerLink, s: number, ok: boolean): void {
    this.trees.feeds.onFeed(link, s, ok);
  }
  onPushed(link: PeerLink, id: string, piece: number, total: number, bytes: Uint8Array | undefined): void {
    this.downloads.pushed(link, id, piece, total, bytes);
  }

  onClose(link: PeerLink, reason: string): void {
    if (this.links.get(link.peerId) === link) this.links.delete(link.peerId);
    this.env.uploader.dropLink(link);
    this.trees.onClose(link);
    this.announcer.forget(link);
    this.pusher.forget(link);
    this.downloads.schedule();
    // A peer that broke the protocol is not taken back when the tracker lists it again.
    if (reason.startsWith('protocol:')) this.env.onBadPeer(link.peerId, reason);
  }

  /** The tracker's answer: origin fetchers of the whole swarm and its size. Banned peers are already removed. */
  setSwarmView(seeders: readonly string[], fetchersPerSegment: number, swarmSize: number): void {
    this.owners.setView(seeders, fetchersPerSegment, swarmSize);
  }

  /** The stream's bitrate in bytes/s as this page's copies show it (0 before anything is known). */
  get streamBytesPerSec(): number {
    return this.book.bytesPerSec;
  }

  /** `peerId` is this page's parent or child in some stripe: its link is not evicted. */
  inTree(peerId: string): boolean {
    return this.trees.holds(this.links.get(peerId));
  }

  /** Viewers in the swarm as the tracker last said (0 before its first answer); who fetches segment `id` for everyone (owners.ts). */
  get trackerSwarmSize(): number {
    return this.owners.trackerSwarmSize;
  }
  originFetchersFor(id: string): string[] {
    return this.owners.of(id);
  }

  destroy(): void {
    this.destroyed = true;
    this.clock.clearTimeout(this.keepaliveTimer);
    this.stopPushing();
    this.trees.destroy();
    this.announcer.destroy();
    this.downloads.destroy();
    for (const l of [...this.links.values()]) l.close('destroyed');
    this.links.clear();
    this.haveWaiters.wakeAll();
  }

  /** A peer's playlist lists segments ours does not yet (client/swarm/fresh-notices.ts). */
  onFresh(_link: PeerLink, segments: readonly FreshSegment[]): void {
    this.fresh.heardOf(segments);
  }

  // ---- internals ----

  /**
   * A new segment appeared in the playlist. Live beyond a full mesh: a head fetches its stripes
   * from the origin (client/swarm/trees.ts), everyone else gets them pushed by its parents.
   * Otherwise its owner fetches it whole for the others, who assemble it from pieces.
   */
  private prepare(id: string, url: string, seq: number, range?: ByteRange): void {
    if (this.store.has(id) || this.jobs.has(id)) return;
    if (this.trees.enabled && this.trees.prepare(id, url, seq, range)) return;
    if (this.downloads.get(id)) return;
    if (this.owners.isOwner(id)) return this.intake.fetchWhole(id, url, seq, range);
    this.startDownload(id);
  }

  /**
   * Starts assembling `id` from pieces once a ready peer announced it, if this page's playlist
   * lists it, or, live, if it is one of the next few segments (a peer's playlist shows it before
   * ours does) and named like the segments the playlist lists: a peer cannot make this page
   * spend its downloads on ids of its own invention.
   */
  private startDownload(id: string): Download | undefined {
    if (this.store.has(id) || this.jobs.has(id)) return undefined;
    for (const l of this.links.values()) {
      const r = l.isReady ? l.remoteHas.get(id) : undefined;
      if (r && (this.book.has(id) || this.book.plausible(id, r.seq))) return this.downloads.start(id, r.seq, r.bytes);
    }
    return undefined;
  }
}
