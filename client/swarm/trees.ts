import type { ByteRange } from '../../protocol/segment-id.js';
import { homeStripe, STRIPES, stripeOf } from '../../protocol/stripes.js';
import type { Clock } from '../core/clock.js';
import type { RelaycastStats } from '../core/stats.js';
import type { PeerLink } from '../transport/peer-link.js';
import type { Download, Downloads } from './downloads.js';
import { FeedChildren } from './feed-children.js';
import { Feeds } from './feeds.js';
import { Heading, type OriginWhy, type SegmentFacts } from './heading.js';
import type { Holdings } from './holdings.js';
import type { OriginRate } from './origin-rate.js';
import type { Owners } from './owners.js';
import type { SegmentBook } from './segment-book.js';
import type { Uploader } from './uploader.js';

/**
 * A piece a parent pushes is asked of other peers only once the player waits for its segment
 * and the origin would fill it within this long: before that, the push is on its way.
 */
const FEED_LATE_MS = 1500;

export interface TreesDeps {
  readonly swarmId: string;
  /** Used in a full mesh too. */
  readonly inMesh: boolean;
  readonly clock: Clock;
  readonly selfId: () => string | undefined;
  readonly links: () => Iterable<PeerLink>;
  readonly uploadAllowed: () => boolean;
  readonly uploader: Uploader;
  readonly owners: Owners;
  readonly book: SegmentBook;
  readonly holdings: Holdings;
  readonly downloads: Downloads;
  readonly stats: RelaycastStats;
  readonly originRate: OriginRate;
  readonly pieceBytes: number;
  readonly describe?: (id: string) => Promise<SegmentFacts | undefined>;
  readonly originFetch: (url: string, range: ByteRange | undefined, part: ByteRange | undefined, why: OriginWhy) => Promise<Uint8Array | undefined>;
  readonly fetchWhole: (id: string, url: string, seq: number, range?: ByteRange) => void;
  /** One more stripe of `bytesPerSec` fits the page's uplink besides what it feeds already (all swarms). */
  readonly fits: (bytesPerSec: number) => boolean;
  readonly unfit: (link: PeerLink) => boolean;
}

/**
 * The stripe trees of one live swarm (protocol/stripes.ts): the heads' origin fetches
 * (heading.ts), this page's parents (feeds.ts) and children (feed-children.ts), and the pieces
 * pushed down as they arrive. VOD swarms use none of it: their viewers are at different places.
 */
export class Trees {
  readonly feeds: Feeds;
  readonly children: FeedChildren;
  private readonly heading: Heading;

  constructor(private readonly d: TreesDeps) {
    this.feeds = new Feeds({
      clock: d.clock,
      selfId: d.selfId,
      links: d.links,
      uploadAllowed: d.uploadAllowed,
      enabled: () => this.enabled,
      headStripes: () => this.headStripes(),
      isChild: (l, s) => this.children.has(l, s),
      hasChildren: (s) => this.children.hasAny(s),
      unfit: d.unfit,
    });
    this.children = new FeedChildren({
      clock: d.clock,
      uploadAllowed: d.uploadAllowed,
      canFeed: (s) => this.feeds.depth(s) >= 0,
      fits: () => d.fits(this.stripeBytesPerSec),
      relays: (peerId, s) => homeStripe(peerId) === s || this.isHead(peerId, s),
      uploader: d.uploader,
      recent: () => d.holdings.pushable(),
    });
    this.heading = new Heading({
      clock: d.clock,
      pieceBytes: d.pieceBytes,
      stats: d.stats,
      downloads: d.downloads,
      originRate: d.originRate,
      ...(d.describe ? { describe: d.describe } : {}),
      originFetch: d.originFetch,
      fetchWhole: d.fetchWhole,
    });
  }

  /**
   * Live swarms larger than a full mesh use the trees once the playlist is known. In a full mesh
   * every page is linked to every other: one owner fetches each segment whole and the others pull
   * its pieces from everyone (and idle uplinks push them), which starts faster when pages join
   * or switch renditions, and carries the same share.
   */
  get enabled(): boolean {
    return !this.d.book.vod && this.d.book.newestSeq >= 0 && (this.d.inMesh || this.d.owners.usesSeeders);
  }

  /** Stripes this page heads, as a bitmask. */
  headStripes(): number {
    return this.enabled ? this.d.owners.headStripes(this.d.swarmId) : 0;
  }

  isHead(peerId: string, s: number): boolean {
    return this.enabled && this.d.owners.heads(this.d.swarmId)[s]!.includes(peerId);
  }

  /** One stripe's share of the stream, bytes/s (0 before the bitrate is known). */
  get stripeBytesPerSec(): number {
    return this.d.book.bytesPerSec / STRIPES;
  }

  /** What this swarm's children cost the uplink, bytes/s. */
  get feedBytesPerSec(): number {
    return this.children.count * this.stripeBytesPerSec;
  }

  /** A new live segment: a head fetches its stripes from the origin (true); everyone else waits for its parents' pushes. */
  prepare(id: string, url: string, seq: number, range: ByteRange | undefined): boolean {
    const mask = this.headStripes();
    if (mask === 0) return false;
    this.heading.start(id, url, seq, range, mask);
    return true;
  }

  /**
   * The picker leaves a piece to its parent's push until the player's deadline nears, and never
   * asks the parent itself for it (the parent has it queued for this page already).
   */
  skip(link: PeerLink | undefined, d: Download, piece: number, nowMs: number): boolean {
    if (!this.enabled) return false;
    const s = stripeOf(piece, d.copy.pieces);
    if (!this.feeds.fed(s)) return false;
    if (link !== undefined && this.feeds.parentOf(s) === link) return true;
    return d.urgentUntil === undefined || nowMs < d.urgentUntil - FEED_LATE_MS;
  }

  /** Piece `piece` of `id` is here: the children of its stripe get it. */
  onPiece(id: string, piece: number): void {
    if (!this.enabled) return;
    const h = this.d.holdings.holdingOf(id);
    if (h) this.children.piece(h, piece);
  }

  /** A whole copy of `id` was stored (from the origin, or completed): the children get what they lack of it. */
  onStored(id: string, seq: number): void {
    if (!this.enabled || seq < this.d.book.newestSeq - 1 || !this.children.count) return;
    const h = this.d.holdings.holdingOf(id);
    if (h) for (let i = 0; i < h.pieces; i++) this.children.piece(h, i);
  }

  /** Per stripe, this page's depth where it can feed others (-1 elsewhere). */
  depths(): number[] {
    return Array.from({ length: STRIPES }, (_, s) => this.feeds.depth(s));
  }

  /** `link`'s peer is this page's parent or child in some stripe: its link is not evicted. */
  holds(link: PeerLink | undefined): boolean {
    if (!link) return false;
    for (let s = 0; s < STRIPES; s++) if (this.feeds.parentOf(s) === link) return true;
    return this.children.feeds(link);
  }

  onReady(link: PeerLink): void {
    this.feeds.greet(link);
  }

  onSub(link: PeerLink, s: number, on: boolean, interior: boolean): void {
    if (this.enabled) this.children.onSub(link, s, on, interior);
    else if (on) link.sendFeed(s, false);
  }

  onClose(link: PeerLink): void {
    this.feeds.onClose(link);
    this.children.onClose(link);
  }

  tick(): void {
    this.children.tick();
    this.feeds.tick();
  }

  destroy(): void {
    this.feeds.destroy();
    this.children.destroy();
  }
}
