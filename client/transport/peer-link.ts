import { putBounded } from '../../protocol/bounded.js';
import { TokenBucket } from '../../protocol/token-bucket.js';
import { decodeFrame, encodeFrame } from '../../protocol/framing.js';
import { LIMITS } from '../../protocol/limits.js';
import { Bitfield, fromBase64Url, LEAF_BYTES, pieceCount, pieceSpan, toBase64Url } from '../../protocol/pieces.js';
import { realClock, type Clock } from '../core/clock.js';
import {
  encodePeerMessage,
  parsePeerMessage,
  PEER_PROTOCOL_VERSION,
  type FreshSegment,
  type MissReason,
  type PeerMessage,
  type SegmentInfo,
  PUSH_ID_BASE,
} from '../../protocol/peer.js';
import { LinkHealth } from './link-health.js';
import { PushInbox } from './push-inbox.js';
import { RateMeter } from './rate-meter.js';
export { BUSY_BACKOFF_MS, KEEPALIVE_MS, SILENT_MS } from './link-health.js';

import { MAX_REMOTE_HAVE, MSG_BURST, MSG_PER_SEC, type Channel, type LinkConfig, type LinkHandlerOf, type PendingPiece as Pending, type PieceRequest, type PieceResult, type RemoteCopy, type TreeAdvert } from './link-types.js';
export type { Channel, IncomingPushInfo, LinkConfig, PieceRequest, PieceResult, RemoteCopy, TreeAdvert } from './link-types.js';

export type LinkHandler = LinkHandlerOf<PeerLink>;

/**
 * The peer protocol over one channel: hello, announcements of whole segments and of pieces,
 * piece requests answered by one frame each, hash lists, liveness. A peer that breaks the
 * protocol is disconnected. What to request and what to serve is the swarm's business.
 */
export class PeerLink {
  readonly remoteHas = new Map<string, RemoteCopy>();
  /** The peer's place in the stripes' trees, as it last said (undefined before its first `tree`). */
  remoteTree: TreeAdvert | undefined;
  private ready = false;
  private closed = false;
  private nextReqId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Pieces the peer said it is pushing, by push id: wanted or not. */
  private readonly pushes: PushInbox;
  /** Requests of the peer this page accepted and has not answered yet. */
  private readonly serving = new Set<number>();
  private readonly msgRate: TokenBucket;
  private readonly meter: RateMeter;
  private readonly health: LinkHealth;
  /** Piece bytes this link delivered to this page, and this page to the peer. */
  receivedBytes = 0;
  sentBytes = 0;
  /** When the link was set up (clock ms). */
  readonly openedAtMs: number;

  constructor(
    readonly peerId: string,
    readonly swarm: string,
    private readonly ch: Channel,
    private readonly h: LinkHandler,
    private readonly cfg: LinkConfig,
    private readonly clock: Clock = realClock,
    /** This page dialed the connection (client/transport/link-policy.ts keeps the smaller dialer's one of two). */
    readonly outgoing = false,
  ) {
    this.msgRate = new TokenBucket(MSG_BURST, MSG_PER_SEC, clock.now());
    this.meter = new RateMeter(clock);
    this.openedAtMs = clock.now();
    this.health = new LinkHealth(clock);
    this.pushes = new PushInbox(cfg.pieceBytes);
  }

  start(): void {
    this.sendMsg({ type: 'hello', v: PEER_PROTOCOL_VERSION, swarm: this.swarm });
  }

  /** Milliseconds since anything arrived from this peer; smoothed round-trip time in ms (undefined before the first pong). */
  get silentMs(): number {
    return this.health.silentMs;
  }
  get rttMs(): number | undefined {
    return this.health.rttMs;
  }

  /** Called periodically (every KEEPALIVE_MS or so) by the owner of the link: liveness both ways, and RTT. */
  keepalive(): void {
    if (this.closed) return;
    const due = this.health.keepalive(this.ready);
    if (due === 'dead') return this.close('silent');
    if (due) this.sendMsg(due);
  }

  /** The peer answered `busy` within the last BUSY_BACKOFF_MS. */
  get recentlyBusy(): boolean {
    return this.health.recentlyBusy;
  }

  /** Bytes queued in the channel, not yet on the wire (the uplink backlog this link adds). */
  get queuedBytes(): number {
    if (this.closed) return 0;
    try {
      return this.ch.bufferedAmount();
    } catch {
      return 0;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }
  get isReady(): boolean {
    return this.ready && !this.closed;
  }

  /** The peer's requests this page is serving or has queued; this page's piece requests pending on this link. */
  get activeUploads(): number {
    return this.serving.size;
  }
  get activePulls(): number {
    return this.pending.size;
  }

  /** Piece requests pending on this link for segment `id`. */
  pendingFor(id: string): number {
    let n = 0;
    for (const p of this.pending.values()) if (p.id === id) n++;
    return n;
  }

  /**
   * Piece bytes/s this peer delivers to this page while requests are pending, undefined before
   * the first piece and once the last sample is old: a peer found slow is tried again later.
   */
  get throughput(): number | undefined {
    return this.meter.rate;
  }

  /** Recent piece requests to this peer timed out: route around it. */
  get failing(): boolean {
    return this.health.failing;
  }

  /** Does the peer hold piece `piece` of `id`, by its announcements? */
  hasPiece(id: string, piece: number): boolean {
    const r = this.remoteHas.get(id);
    return r !== undefined && (r.pieces === undefined || r.pieces.has(piece));
  }

  announce(segments: readonly SegmentInfo[]): void {
    for (let i = 0; i < segments.length; i += LIMITS.haveItems) this.sendMsg({ type: 'have', segments: segments.slice(i, i + LIMITS.haveItems) });
  }

  /** Tells the peer that this page's playlist lists segments it had not heard of from anyone. */
  tellFresh(segments: readonly FreshSegment[]): void {
    for (let i = 0; i < segments.length; i += LIMITS.haveItems) this.sendMsg({ type: 'fresh', segments: segments.slice(i, i + LIMITS.haveItems) });
  }

  /**
   * Asks for piece `piece` of `id`, as announced. Never rejects: resolves a failure on timeout,
   * abort, miss, busy or close. `hashes`: the peer sends the segment's hash list first.
   */
  requestPiece(id: string, piece: number, timeoutMs: number, hashes: boolean, signal?: AbortSignal): Promise<PieceResult> {
    const announced = this.remoteHas.get(id);
    if (!this.isReady) return Promise.resolve({ ok: false, reason: 'not ready' });
    if (!announced || !this.hasPiece(id, piece)) return Promise.resolve({ ok: false, reason: 'unknown' });
    if (this.pending.size >= this.cfg.maxPendingPieces) return Promise.resolve({ ok: false, reason: 'too many' });
    const reqId = this.nextReqId;
    this.nextReqId = this.nextReqId >= PUSH_ID_BASE - 1 ? 1 : this.nextReqId + 1;
    return new Promise<PieceResult>((resolve) => {
      const finish = (r: PieceResult): void => {
        const p = this.pending.get(reqId);
        if (!p) return;
        this.pending.delete(reqId);
        this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.account(r, p);
        if (!r.ok && (r.reason === 'timeout' || r.reason === 'aborted') && !this.closed) this.sendMsg({ type: 'cancel', reqId });
        resolve(r);
      };
      const onAbort = (): void => finish({ ok: false, reason: 'aborted' });
      const timer = this.clock.setTimeout(() => finish({ ok: false, reason: 'timeout' }), Math.max(0, timeoutMs));
      signal?.addEventListener('abort', onAbort);
      if (this.pending.size === 0) this.meter.busy();
      this.pending.set(reqId, { id, piece, total: announced.bytes, sentMs: this.clock.now(), finish });
      this.sendMsg({ type: 'request', reqId, id, piece, ...(hashes ? { hashes: true as const } : {}) });
    });
  }

  /** Upload: the hash list of `id`, before the first piece of it this peer gets. */
  sendHashes(id: string, list: Uint8Array): void {
    this.sendMsg({ type: 'hashes', id, list: toBase64Url(list) });
  }

  /** Upload: piece `piece` of a segment of `total` bytes, answering `reqId`. False if the request is gone. */
  sendPiece(reqId: number, total: number, piece: number, bytes: Uint8Array): boolean {
    if (this.closed || !this.serving.delete(reqId)) return false;
    return this.sendFrame(reqId, total, piece, bytes);
  }

  /** Upload, unasked: piece `piece` of `id` (segment `seq` of `total` bytes) to a peer that lacks it. False if the link is closed. */
  sendPush(id: string, seq: number, total: number, piece: number, bytes: Uint8Array): boolean {
    if (this.closed) return false;
    const reqId = this.pushes.nextPushId();
    this.sendMsg({ type: 'push', reqId, id, seq, bytes: total, piece });
    return this.sendFrame(reqId, total, piece, bytes);
  }

  /** Stripe-tree control (client/swarm/feeds.ts): where this page stands; ask the peer to feed stripe `s` or stop; grant or refuse. */
  sendTree(t: TreeAdvert): void {
    this.sendMsg({ type: 'tree', depth: t.depth, need: t.need, up: t.up });
  }
  sendSub(s: number, on: boolean, interior: boolean): void {
    this.sendMsg({ type: 'sub', s, on, ...(interior ? { interior: true as const } : {}) });
  }
  sendFeed(s: number, ok: boolean): void {
    this.sendMsg({ type: 'feed', s, ok });
  }

  /** Upload: request `reqId` will not be served. */
  refuse(reqId: number, reason: MissReason): void {
    if (this.serving.delete(reqId)) this.sendMsg({ type: 'miss', reqId, reason });
  }

  /** Upload: the request is still wanted (not cancelled, link open). */
  isServing(reqId: number): boolean {
    return !this.closed && this.serving.has(reqId);
  }

  /** Resolves once the channel holds at most `belowBytes` unsent (a piece has nearly left), or closed. */
  drained(belowBytes: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    try {
      return this.ch.drained(belowBytes);
    } catch {
      return Promise.resolve();
    }
  }

  /** Live: forget what the peer announced below `seq` (every store evicted it): each link's map stays about one live window. */
  forgetHaveBelow(seq: number): void {
    for (const [id, s] of this.remoteHas) if (s.seq < seq) this.remoteHas.delete(id);
  }

  /** Feed every message received on the channel here. */
  receive(data: unknown): void {
    if (this.closed) return;
    this.health.heard();
    if (typeof data === 'string') {
      if (!this.msgRate.take(this.clock.now())) return this.close('protocol: message rate');
      const m = parsePeerMessage(data);
      if (!m.ok) return this.close(`protocol: ${m.reason}`);
      this.onMessage(m.value);
    } else if (data instanceof ArrayBuffer) {
      this.onFrame(data);
    } else if (ArrayBuffer.isView(data)) {
      this.onFrame(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
    } else {
      this.close('protocol: unexpected data type');
    }
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending.values()]) p.finish({ ok: false, reason: 'closed' });
    this.pending.clear();
    for (const p of this.pushes.abandon()) this.h.onPushed(this, p.id, p.piece, 0, undefined);
    this.serving.clear();
    try {
      this.ch.close();
    } catch {
      // Already gone.
    }
    this.h.onClose(this, reason);
  }

  /** Piece rate and strikes: a timeout with nothing received is a busy or gone page, not a slow link. */
  private account(r: PieceResult, p: Pending): void {
    if (r.ok) {
      this.receivedBytes += r.bytes.byteLength;
      this.meter.sample(r.bytes.byteLength, p.sentMs);
      this.health.delivered();
    } else if (r.reason === 'timeout') {
      this.health.timedOut();
    }
  }

  private onMessage(m: PeerMessage): void {
    if (!this.ready) {
      if (m.type !== 'hello' || m.v !== PEER_PROTOCOL_VERSION || m.swarm !== this.swarm) return this.close('protocol: bad hello');
      this.ready = true;
      this.h.onReady(this);
      return;
    }
    switch (m.type) {
      case 'hello':
        return this.close('protocol: second hello');
      case 'have':
        return this.onHave(m.segments);
      case 'fresh':
        this.h.onFresh?.(this, m.segments);
        return;
      case 'request':
        return this.onRequest(m.reqId, m.id, m.piece, m.hashes === true);
      case 'cancel':
        if (this.serving.delete(m.reqId)) this.h.onCancel(this, m.reqId);
        return;
      case 'push': {
        const wanted = this.h.onPush(this, { id: m.id, seq: m.seq, bytes: m.bytes, piece: m.piece });
        if (!this.pushes.expect(m.reqId, { id: m.id, piece: m.piece, wanted })) return this.close('protocol: too many pushes');
        return;
      }
      case 'tree':
        this.remoteTree = { depth: m.depth, need: m.need, up: m.up };
        return this.h.onTree(this);
      case 'sub':
        return this.h.onSub(this, m.s, m.on, m.interior === true);
      case 'feed':
        return this.h.onFeed(this, m.s, m.ok);
      case 'hashes': {
        const list = fromBase64Url(m.list);
        if (list === undefined || list.byteLength === 0 || list.byteLength % LEAF_BYTES !== 0) return this.close('protocol: bad hash list');
        this.h.onHashes(this, m.id, list);
        return;
      }
      case 'ping':
        return this.sendMsg({ type: 'pong', n: m.n });
      case 'pong':
        return this.health.pong(m.n);
      case 'miss': {
        const p = this.pending.get(m.reqId);
        if (!p) return;
        if (m.reason === 'busy') {
          this.health.busy();
          p.finish({ ok: false, reason: 'busy' });
        } else {
          // It does not have it (any more), or does not upload: forget the announcement.
          this.remoteHas.delete(p.id);
          p.finish({ ok: false, reason: 'miss' });
        }
        return;
      }
    }
  }

  private onHave(segments: readonly SegmentInfo[]): void {
    for (const s of segments) {
      let pieces: Bitfield | undefined;
      if (s.pieces !== undefined) {
        pieces = Bitfield.decode(s.pieces, pieceCount(s.bytes, this.cfg.pieceBytes));
        if (!pieces) return this.close('protocol: bad bitfield');
        if (pieces.count === 0) continue;
      }
      putBounded(this.remoteHas, s.id, { seq: s.seq, bytes: s.bytes, hop: s.hop, pieces }, MAX_REMOTE_HAVE);
    }
    this.h.onHave(this, segments);
  }

  private onRequest(reqId: number, id: string, piece: number, hashes: boolean): void {
    if (this.serving.has(reqId)) return this.close('protocol: duplicate request id');
    if (this.serving.size >= this.cfg.maxPendingPieces) return this.sendMsg({ type: 'miss', reqId, reason: 'busy' });
    this.serving.add(reqId);
    const refused = this.h.onRequest(this, { reqId, id, piece, hashes });
    if (refused !== undefined) this.refuse(reqId, refused);
  }

  private onFrame(buf: ArrayBuffer): void {
    const f = decodeFrame(buf);
    if (!f.ok) return this.close(`protocol: ${f.reason}`);
    if (f.value.reqId >= PUSH_ID_BASE) return this.onPushFrame(f.value);
    const p = this.pending.get(f.value.reqId);
    // Frames of a request we cancelled or gave up on may still be in flight: drop them.
    if (!p) return;
    const span = pieceSpan(p.piece, p.total, this.cfg.pieceBytes);
    if (f.value.totalBytes !== p.total) return this.close('protocol: size differs from announcement');
    if (f.value.offset !== span.start || f.value.payload.byteLength !== span.end - span.start) return this.close('protocol: not the piece asked for');
    // The payload views the frame's buffer: copied out so the buffer can be reused (simulator) or collected.
    p.finish({ ok: true, bytes: f.value.payload.slice() });
  }

  private onPushFrame(f: { readonly reqId: number; readonly totalBytes: number; readonly offset: number; readonly payload: Uint8Array }): void {
    const a = this.pushes.arrive(f.reqId, f.totalBytes, f.offset, f.payload.byteLength);
    if (!a.ok) return this.close(`protocol: ${a.reason}`);
    const p = a.push;
    if (!p.wanted) return;
    this.receivedBytes += f.payload.byteLength;
    this.h.onPushed(this, p.id, p.piece, f.totalBytes, f.payload.slice());
  }

  private sendFrame(reqId: number, total: number, piece: number, bytes: Uint8Array): boolean {
    const { start } = pieceSpan(piece, total, this.cfg.pieceBytes);
    try {
      this.ch.send(encodeFrame(reqId, total, start, bytes));
    } catch (e) {
      this.close(`send failed: ${String(e)}`);
      return false;
    }
    this.health.sent();
    this.sentBytes += bytes.byteLength;
    return true;
  }

  private sendMsg(m: PeerMessage): void {
    if (this.closed) return;
    try {
      this.ch.send(encodePeerMessage(m));
      this.health.sent();
    } catch (e) {
      this.close(`send failed: ${String(e)}`);
    }
  }
}
