import type { MissReason } from '../../protocol/peer.js';
import type { PeerLink } from '../transport/peer-link.js';
import { FeedQueue, type FeedJob } from './feed-queue.js';
import { UplinkMeter } from './uplink-meter.js';

/** One piece a peer asked for, queued until an upload slot is free. */
export interface UploadJob {
  readonly link: PeerLink;
  readonly reqId: number;
  /** Sequence number of the segment: the lowest (the one players need first) goes first. */
  readonly seq: number;
  readonly piece: number;
  /** The piece's bytes and the segment's size, at send time; undefined when this page no longer holds it. */
  readonly source: () => { readonly bytes: Uint8Array; readonly total: number } | undefined;
  /** The segment's hash list, sent before the piece when the peer asked for it. */
  readonly hashList?: () => Promise<Uint8Array | undefined>;
  readonly segmentId: string;
}

export interface UploaderConfig {
  /** Pieces being sent at once, to all peers (config maxUploadsTotal). */
  readonly slots: number;
  /** Requests waiting for a slot, all peers; more are answered `busy`. */
  readonly maxQueued: number;
}

/** A piece to send a peer unasked, when the uplink would otherwise be idle. */
export interface PushJob {
  readonly link: PeerLink;
  readonly segmentId: string;
  readonly seq: number;
  readonly piece: number;
  readonly bytes: Uint8Array;
  readonly total: number;
  /** The segment's hash list, sent first when this peer has not had it from this page. */
  readonly hashList?: () => Promise<Uint8Array | undefined>;
}

export interface UploaderEnv {
  /** The viewer's upload budget: resolves when this many bytes may go. */
  throttle(bytes: number): Promise<void>;
  onUploaded(link: PeerLink, bytes: number): void;
  /** Clock ms (uplink measurement, push ages). */
  now(): number;
}

/** Where pushes come from: every swarm of the page, asked in turn. */
export type PushSource = () => PushJob | undefined;

/**
 * The page's uplink, shared by every swarm and peer. Pieces go out a few at a time (`slots`),
 * each until it has left the channel's buffer: with a dozen receivers sharing the uplink evenly
 * every piece would arrive a dozen piece-times late, while in turn the first arrives after one
 * and is relayed onward at once (processor sharing halves nothing and delays everything).
 *
 * What goes first: pieces owed to the peers this page feeds a stripe (feed-queue.ts: they were
 * promised, and each one is relayed on down its tree), then pieces peers asked for, then, with
 * the uplink otherwise idle, pieces pushed to peers that lack them. Requests beyond the queue
 * are answered `busy`, so requesters turn to other holders instead of waiting here.
 */
export class Uploader {
  private readonly queue: UploadJob[] = [];
  private readonly feeds = new FeedQueue();
  private sending = 0;
  private destroyed = false;
  private readonly sources = new Set<PushSource>();
  /** What the uplink carries while busy: its capacity (the peers this page can feed follow it). */
  readonly meter: UplinkMeter;

  constructor(
    private readonly cfg: UploaderConfig,
    private readonly env: UploaderEnv,
  ) {
    this.meter = new UplinkMeter(() => env.now());
  }

  /** Pieces being sent plus waiting: the page's upload work. */
  get inFlight(): number {
    return this.sending + this.queue.length;
  }

  /** Queues a request; `busy` when the queue is full. */
  offer(job: UploadJob): MissReason | undefined {
    if (this.destroyed) return 'no-upload';
    if (this.queue.length >= this.cfg.maxQueued) return 'busy';

    this.queue.push(job);
    this.pump();
    return undefined;
  }

  /** The peer cancelled `reqId` (or its link closed): it leaves the queue. */
  cancel(link: PeerLink, reqId: number): void {
    const i = this.queue.findIndex((j) => j.link === link && j.reqId === reqId);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** Every request and push of a closed link leaves the queue. */
  dropLink(link: PeerLink): void {
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.link === link) this.queue.splice(i, 1);
    this.feeds.dropLink(link);
  }

  /** A piece owed to a peer this page feeds its stripe. */
  feed(job: FeedJob): void {
    if (this.destroyed) return;
    this.feeds.add(job);
    this.pump();
  }

  /** The pushes owed to `link` that `keep` rejects leave the queue (it is no longer fed those stripes). */
  unfeed(link: PeerLink, keep: (job: FeedJob) => boolean): void {
    this.feeds.dropLink(link, keep);
  }

  /** How long the oldest owed push has waited: above a second or so, this page feeds more than its uplink carries. */
  feedBacklogMs(): number {
    return this.feeds.backlogMs(this.env.now());
  }

  destroy(): void {
    this.destroyed = true;
    this.queue.length = 0;
    this.feeds.clear();
    this.sources.clear();
  }

  /** A swarm offers pieces to push (client/swarm/pusher.ts); returns the function that withdraws it. */
  addPushSource(source: PushSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /** Something changed that may give the idle uplink a piece to push (a piece verified, a peer's announcement). */
  kick(): void {
    this.pump();
  }

  /**
   * Requests first; with none waiting, a piece pushed to a peer that lacks it, so the uplink is
   * not idle while a neighbour could use what this page holds. Pushes use only time nobody
   * asked for: a request that arrives waits at most for the piece being sent.
   */
  private pump(): void {
    while (!this.destroyed && this.sending < this.cfg.slots) {
      const owed = this.feeds.size > 0 ? this.feeds.take(this.env.now()) : undefined;
      if (owed) {
        this.run(this.sendFeed(owed));
        continue;
      }
      if (this.queue.length > 0) {
        const job = this.take();
        if (!job.link.isServing(job.reqId)) continue;
        this.run(this.send(job));
        continue;
      }
      const push = this.nextPush();
      if (!push) return;
      this.run(this.sendPush(push));
    }
  }

  private run(p: Promise<void>): void {
    this.sending++;
    void p.finally(() => {
      this.sending--;
      this.pump();
    });
  }

  private nextPush(): PushJob | undefined {
    for (const source of this.sources) {
      const job = source();
      if (job) return job;
    }
    return undefined;
  }

  private async sendPush(job: PushJob): Promise<void> {
    const { link } = job;
    if (job.hashList) {
      const list = await job.hashList();
      if (list === undefined || link.isClosed) return;
      link.sendHashes(job.segmentId, list);
    }
    await this.env.throttle(job.bytes.byteLength);
    if (!link.sendPush(job.segmentId, job.seq, job.total, job.piece, job.bytes)) return;
    await this.onWire(link, job.bytes.byteLength);
  }

  private async sendFeed(job: FeedJob): Promise<void> {
    const { link } = job;
    const src = job.source();
    if (!src) return;
    const listing = job.list();
    if (listing) {
      const list = await listing;
      if (list === undefined || link.isClosed) return;
      link.sendHashes(job.segmentId, list);
    }
    await this.env.throttle(src.bytes.byteLength);
    if (!link.sendPush(job.segmentId, job.seq, src.total, job.piece, src.bytes)) return;
    await this.onWire(link, src.bytes.byteLength);
  }

  /** A piece is on `link`'s channel: counted, and the slot held until it has left (measured meanwhile). */
  private async onWire(link: PeerLink, bytes: number): Promise<void> {
    this.env.onUploaded(link, bytes);
    this.meter.begin();
    try {
      await link.drained(0);
    } finally {
      this.meter.end(bytes);
    }
  }

  /**
   * The next job: one in three the lowest sequence number (the segment players need first), two
   * the highest (the newest, which few peers hold yet: each of its pieces sent now is relayed on
   * by its receiver, so it multiplies the swarm's capacity for it). Oldest first among equals.
   */
  private take(): UploadJob {
    const newest = this.turn++ % 3 !== 0;
    let best = 0;
    for (let i = 1; i < this.queue.length; i++) {
      const q = this.queue[i]!.seq;
      const b = this.queue[best]!.seq;
      if (newest ? q > b : q < b) best = i;
    }
    return this.queue.splice(best, 1)[0]!;
  }
  private turn = 0;

  private async send(job: UploadJob): Promise<void> {
    const { link } = job;
    if (job.hashList) {
      const list = await job.hashList();
      if (!link.isServing(job.reqId)) return;
      if (list === undefined) return link.refuse(job.reqId, 'not-found');
      link.sendHashes(job.segmentId, list);
    }
    const src = job.source();
    if (!src) return link.refuse(job.reqId, 'not-found');
    await this.env.throttle(src.bytes.byteLength);
    if (!link.sendPiece(job.reqId, src.total, job.piece, src.bytes)) return;
    // The slot is held until the piece has left: the next one then goes at the full uplink rate.
    await this.onWire(link, src.bytes.byteLength);
  }
}
