import { putBounded } from '../../protocol/bounded.js';
import { TokenBucket } from '../../protocol/token-bucket.js';
import { decodeFrame, encodeFrame, FRAME_HEADER_BYTES, Reassembly } from '../../protocol/framing.js';
import { LIMITS } from '../../protocol/limits.js';
import { realClock, type Clock } from '../core/clock.js';
import { wholeCopy, type Sendable } from '../swarm/growing-copy.js';
import {
  encodePeerMessage,
  parsePeerMessage,
  PEER_PROTOCOL_VERSION,
  type FreshSegment,
  type MissReason,
  type PeerMessage,
  type SegmentInfo,
} from '../../protocol/peer.js';

/** A reliable, ordered message channel (a PeerJS `raw` data connection, or a fake in tests). */
export interface Channel {
  send(data: string | ArrayBuffer): void;
  bufferedAmount(): number;
  /** Resolves once the send buffer is below its low-water mark (or the channel closed). */
  drained(): Promise<void>;
  close(): void;
}

export interface LinkHandler {
  onReady(link: PeerLink): void;
  onHave(link: PeerLink, segments: readonly SegmentInfo[]): void;
  /** The peer's playlist lists these segments, and it had not heard of them from anyone. */
  onFresh?(link: PeerLink, segments: readonly FreshSegment[]): void;
  /** Bytes to upload for `id` (whole, or a copy still arriving: client/growing-copy.ts), or why not. */
  serve(link: PeerLink, id: string): Uint8Array | Sendable | MissReason;
  /** Payload bytes of one frame just sent. */
  onUploaded(link: PeerLink, bytes: number): void;
  /** Resolves when this many more bytes may be uploaded (the viewer's upload budget). */
  throttle(bytes: number): Promise<void>;
  onClose(link: PeerLink, reason: string): void;
}

export type PullResult = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly reason: string };

interface Pending {
  readonly id: string;
  /** Size the peer announced in `have`; a different total in the frames is a protocol violation. */
  readonly expectedBytes: number | undefined;
  assembly: Reassembly | undefined;
  readonly finish: (r: PullResult) => void;
  /** Called after each frame that did not complete the segment: (the segment's buffer, bytes received so far). */
  readonly onProgress: ((bytes: Uint8Array, received: number) => void) | undefined;
}

const MAX_REMOTE_HAVE = 256;
/**
 * Liveness: an empty `have` is sent when nothing else was sent for KEEPALIVE_MS. A peer
 * silent for SILENT_MS is treated as gone (its page may have closed without the data
 * channel noticing for many seconds) and the link is closed after DEAD_MS.
 */
export const KEEPALIVE_MS = 1500;
export const SILENT_MS = 4000;
const DEAD_MS = 10_000;
/** Round-trip time is measured on connect and then this often. */
const PING_EVERY_MS = 10_000;
/** Timeouts after which a peer counts as failing, and how long that is remembered. */
const STRIKES_TO_FAIL = 2;
const STRIKE_MEMORY_MS = 60_000;
const MAX_PENDING_PULLS = 4;
/** A pull cut short after at least this long tells the peer's rate by the bytes it delivered. */
const MIN_PARTIAL_RATE_SEC = 0.2;
/** How long a measured rate is trusted without a new measurement. */
const RATE_MEMORY_MS = 30_000;
/** After a `busy` answer, how long the peer counts as busy (the time it needs to send about one segment). */
export const BUSY_BACKOFF_MS = 300;
/** Control messages a peer may send: a burst, then a steady rate; more is a protocol violation. */
const MSG_BURST = 300;
const MSG_PER_SEC = 100;

/**
 * The peer protocol over one channel: hello, have announcements, and
 * request/response of segment bytes in bounded frames with backpressure.
 * A peer that breaks the protocol is disconnected.
 */
export class PeerLink {
  readonly remoteHas = new Map<string, SegmentInfo>();
  private ready = false;
  private closed = false;
  private nextReqId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly uploads = new Set<number>();
  private readonly msgRate: TokenBucket;
  private rateEwma: number | undefined;
  private rateAtMs = -Infinity;
  private lastHeardMs: number;
  private lastSentMs: number;
  private rttEwma: number | undefined;
  private pingN = 0;
  private pingSentMs = 0;
  private lastPingMs = -Infinity;
  private strikes = 0;
  private lastStrikeMs = 0;
  private lastBusyMs = -Infinity;
  /** When the link was set up (clock ms). */
  readonly openedAtMs: number;

  constructor(
    readonly peerId: string,
    readonly swarm: string,
    private readonly ch: Channel,
    private readonly h: LinkHandler,
    private readonly cfg: { readonly maxUploadsPerPeer: number; readonly sendHighWaterBytes: number },
    private readonly clock: Clock = realClock,
    /** This page dialed the connection (client/link-policy.ts keeps the smaller dialer's one of two). */
    readonly outgoing = false,
  ) {
    this.msgRate = new TokenBucket(MSG_BURST, MSG_PER_SEC, clock.now());
    this.openedAtMs = clock.now();
    this.lastHeardMs = clock.now();
    this.lastSentMs = clock.now();
  }

  start(): void {
    this.sendMsg({ type: 'hello', v: PEER_PROTOCOL_VERSION, swarm: this.swarm });
  }

  /** Milliseconds since anything arrived from this peer. */
  get silentMs(): number {
    return this.clock.now() - this.lastHeardMs;
  }

  /** Smoothed round-trip time to this peer in ms, undefined before the first pong. */
  get rttMs(): number | undefined {
    return this.rttEwma;
  }

  /** Called periodically (every KEEPALIVE_MS or so) by the owner of the link: liveness both ways, and RTT. */
  keepalive(): void {
    if (this.closed) return;
    if (this.silentMs > DEAD_MS) return this.close('silent');
    if (this.ready && this.clock.now() - this.lastPingMs >= PING_EVERY_MS) {
      this.lastPingMs = this.pingSentMs = this.clock.now();
      this.pingN = (this.pingN + 1) >>> 0;
      this.sendMsg({ type: 'ping', n: this.pingN });
      return;
    }
    if (this.ready && this.clock.now() - this.lastSentMs >= KEEPALIVE_MS) this.sendMsg({ type: 'have', segments: [] });
  }

  /** The peer answered `busy` within the last BUSY_BACKOFF_MS: ask another holder first. */
  get recentlyBusy(): boolean {
    return this.clock.now() - this.lastBusyMs < BUSY_BACKOFF_MS;
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

  get activeUploads(): number {
    return this.uploads.size;
  }

  get activePulls(): number {
    return this.pending.size;
  }

  /**
   * Measured delivery rate of this peer (bytes/s over whole pulls), undefined before the first
   * one and once the last is older than RATE_MEMORY_MS: a peer found slow is tried again later
   * (its page may have been busy starting), instead of being avoided for good.
   */
  get throughput(): number | undefined {
    return this.clock.now() - this.rateAtMs < RATE_MEMORY_MS ? this.rateEwma : undefined;
  }

  /** Recent pulls from this peer timed out: route around it. */
  get failing(): boolean {
    return this.strikes >= STRIKES_TO_FAIL && this.clock.now() - this.lastStrikeMs < STRIKE_MEMORY_MS;
  }

  announce(segments: readonly SegmentInfo[]): void {
    for (let i = 0; i < segments.length; i += LIMITS.haveItems) {
      this.sendMsg({ type: 'have', segments: segments.slice(i, i + LIMITS.haveItems) });
    }
  }

  /** Tells the peer that this page's playlist lists segments it had not heard of from anyone. */
  tellFresh(segments: readonly FreshSegment[]): void {
    for (let i = 0; i < segments.length; i += LIMITS.haveItems) {
      this.sendMsg({ type: 'fresh', segments: segments.slice(i, i + LIMITS.haveItems) });
    }
  }

  /**
   * Pulls one segment. Never rejects; resolves a failure on timeout, abort, miss or close.
   * `onProgress` sees the bytes as they arrive (to relay them onward before the end).
   */
  pull(
    id: string,
    timeoutMs: number,
    expectedBytes?: number,
    signal?: AbortSignal,
    onProgress?: (bytes: Uint8Array, received: number) => void,
  ): Promise<PullResult> {
    if (!this.isReady) return Promise.resolve({ ok: false, reason: 'not ready' });
    if (this.pending.size >= MAX_PENDING_PULLS) return Promise.resolve({ ok: false, reason: 'too many pulls' });
    const reqId = this.nextReqId++ >>> 0;
    const started = this.clock.now();
    return new Promise<PullResult>((resolve) => {
      const finish = (r: PullResult): void => {
        const received = this.pending.get(reqId)?.assembly?.receivedBytes ?? 0;
        if (!this.pending.delete(reqId)) return;
        this.measure(r, started, received);
        this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (!r.ok && r.reason !== 'miss' && r.reason !== 'busy' && !this.closed) this.sendMsg({ type: 'cancel', reqId });
        resolve(r);
      };
      const onAbort = (): void => finish({ ok: false, reason: 'aborted' });
      const timer = this.clock.setTimeout(() => finish({ ok: false, reason: 'timeout' }), Math.max(0, timeoutMs));
      signal?.addEventListener('abort', onAbort);
      this.pending.set(reqId, { id, expectedBytes, assembly: undefined, finish, onProgress });
      this.sendMsg({ type: 'request', reqId, id });
    });
  }

  /**
   * Delivery rate over whole pulls; a pull the swarm cut short for its pace counts with the
   * bytes it did deliver, so a slow peer is known as slow.
   */
  private measure(r: PullResult, startedMs: number, received: number): void {
    const sec = Math.max(0.001, (this.clock.now() - startedMs) / 1000);
    const sample = (rate: number): void => {
      this.rateEwma = this.rateEwma === undefined ? rate : 0.5 * this.rateEwma + 0.5 * rate;
      this.rateAtMs = this.clock.now();
    };
    if (r.ok) {
      sample(r.bytes.byteLength / sec);
      this.strikes = 0;
      return;
    }
    // Only a transfer that was under way and cut short for its pace says anything about bandwidth:
    // a timeout with nothing received is a busy or gone page (strikes below), not a slow link.
    if (r.reason === 'aborted' && received > 0 && sec >= MIN_PARTIAL_RATE_SEC) sample(received / sec);
    if (r.reason === 'timeout') {
      this.strikes = this.clock.now() - this.lastStrikeMs < STRIKE_MEMORY_MS ? this.strikes + 1 : 1;
      this.lastStrikeMs = this.clock.now();
    }
  }

  /** Feed every message received on the channel here. */
  receive(data: unknown): void {
    if (this.closed) return;
    this.lastHeardMs = this.clock.now();
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

  /**
   * Live: forget what the peer announced below sequence `seq`: every store has evicted it by
   * now. Keeps each link's map at about one live window instead of MAX_REMOTE_HAVE entries,
   * which at 10,000 simulated viewers was most of the heap.
   */
  forgetHaveBelow(seq: number): void {
    for (const [id, s] of this.remoteHas) if (s.seq < seq) this.remoteHas.delete(id);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending.values()]) p.finish({ ok: false, reason: 'closed' });
    this.pending.clear();
    this.uploads.clear();
    try {
      this.ch.close();
    } catch {
      // Already gone.
    }
    this.h.onClose(this, reason);
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
        for (const s of m.segments) putBounded(this.remoteHas, s.id, s, MAX_REMOTE_HAVE);
        this.h.onHave(this, m.segments);
        return;
      case 'fresh':
        this.h.onFresh?.(this, m.segments);
        return;
      case 'request':
        void this.upload(m.reqId, m.id);
        return;
      case 'cancel':
        this.uploads.delete(m.reqId);
        return;
      case 'ping':
        return this.sendMsg({ type: 'pong', n: m.n });
      case 'pong':
        if (m.n === this.pingN && this.pingSentMs > 0) {
          const rtt = this.clock.now() - this.pingSentMs;
          this.rttEwma = this.rttEwma === undefined ? rtt : 0.7 * this.rttEwma + 0.3 * rtt;
          this.pingSentMs = 0;
        }
        return;
      case 'miss': {
        const p = this.pending.get(m.reqId);
        if (!p) return;
        // Busy: the peer still has the segment and will serve again soon; otherwise forget it.
        if (m.reason === 'busy') {
          this.lastBusyMs = this.clock.now();
          p.finish({ ok: false, reason: 'busy' });
        } else {
          this.remoteHas.delete(p.id);
          p.finish({ ok: false, reason: 'miss' });
        }
        return;
      }
    }
  }

  private onFrame(buf: ArrayBuffer): void {
    const f = decodeFrame(buf);
    if (!f.ok) return this.close(`protocol: ${f.reason}`);
    const p = this.pending.get(f.value.reqId);
    // Frames of a request we cancelled may still be in flight: drop them.
    if (!p) return;
    if (p.expectedBytes !== undefined && f.value.totalBytes !== p.expectedBytes) return this.close('protocol: size differs from announcement');
    p.assembly ??= new Reassembly(f.value.reqId, f.value.totalBytes);
    const r = p.assembly.add(f.value);
    if (!r.ok) return this.close(`protocol: ${r.reason}`);
    if (r.value === 'done') p.finish({ ok: true, bytes: p.assembly.bytes });
    else p.onProgress?.(p.assembly.bytes, p.assembly.receivedBytes);
  }

  private async upload(reqId: number, id: string): Promise<void> {
    if (this.uploads.has(reqId)) return this.close('protocol: duplicate request id');
    if (this.uploads.size >= this.cfg.maxUploadsPerPeer) return this.sendMsg({ type: 'miss', reqId, reason: 'busy' });
    const served = this.h.serve(this, id);
    if (typeof served === 'string') return this.sendMsg({ type: 'miss', reqId, reason: served });
    const src = served instanceof Uint8Array ? wholeCopy(served) : served;
    const total = src.bytes.byteLength;
    if (total === 0 || total > LIMITS.segmentBytes) return this.sendMsg({ type: 'miss', reqId, reason: 'not-found' });
    this.uploads.add(reqId);
    const live = (): boolean => !this.closed && this.uploads.has(reqId);
    try {
      let offset = 0;
      while (offset < total) {
        // A copy still arriving ends here if it never completes: the requester turns elsewhere.
        if (src.failed) {
          if (live()) this.sendMsg({ type: 'miss', reqId, reason: 'not-found' });
          return;
        }
        const end = Math.min(src.sendable(), offset + LIMITS.chunkPayloadBytes);
        if (end <= offset) {
          await src.next();
          if (!live()) return;
          continue;
        }
        await this.h.throttle(end - offset + FRAME_HEADER_BYTES);
        if (this.ch.bufferedAmount() > this.cfg.sendHighWaterBytes) await this.ch.drained();
        if (!live()) return;
        this.ch.send(encodeFrame(reqId, total, offset, src.bytes.subarray(offset, end)));
        this.lastSentMs = this.clock.now();
        this.h.onUploaded(this, end - offset);
        offset = end;
      }
    } catch (e) {
      this.close(`send failed: ${String(e)}`);
    } finally {
      this.uploads.delete(reqId);
    }
  }

  private sendMsg(m: PeerMessage): void {
    if (this.closed) return;
    try {
      this.ch.send(encodePeerMessage(m));
      this.lastSentMs = this.clock.now();
    } catch (e) {
      this.close(`send failed: ${String(e)}`);
    }
  }
}
