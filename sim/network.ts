import type { Channel } from '../client/peer-link.js';
import { decodeFrame, encodeFrame, FRAME_HEADER_BYTES } from '../protocol/framing.js';
import { LIMITS } from '../protocol/limits.js';
import type { Scheduler } from './scheduler.js';

/**
 * The simulated transport under PeerLink (see README.md, "Network model").
 *
 * - Every viewer has one uplink of `uplinkBytesPerSec`, shared by all its
 *   connections by processor sharing (each connection with bytes queued gets an
 *   equal share, like competing congestion-controlled flows at the home router),
 *   or, with sharing 'fifo', one message at a time in send order.
 * - A connection is a reliable, ordered FIFO: a message is delivered whole,
 *   one-way latency after its last byte left the sender's uplink.
 * - Segment payload is carried by fewer real bytes: each binary frame counts
 *   14 header bytes + `payloadScale` virtual bytes per payload byte, so a
 *   segment of 52 KB real bytes costs its full virtual size (e.g. 1 MB) of uplink.
 * - Receivers' downlinks are not modelled (assumed much larger than uplinks).
 */
export interface NetConfig {
  /** Virtual bytes per real payload byte of a binary frame. */
  readonly payloadScale: number;
  /**
   * Virtual payload bytes per frame on the wire. A page sends a segment as frames of
   * 64 KiB (LIMITS.chunkPayloadBytes); the sim's few real bytes fit one frame, so the
   * channel splits it again into valid frames of this virtual size: the receiver then
   * hears from the sender as often as it would (PeerLink liveness), and concurrent
   * uploads interleave at frame granularity.
   */
  readonly wireChunkBytes: number;
  /** Per-message transport overhead (SCTP + DTLS + UDP/IP headers), virtual bytes. */
  readonly messageOverheadBytes: number;
  /** `drained()` resolves at or below this many buffered bytes (the page's bufferedAmountLowThreshold). */
  readonly lowWaterBytes: number;
  /**
   * How a viewer's connections share its uplink: 'fair' (processor sharing, like
   * congestion-controlled flows through one home router: the realistic default) or
   * 'fifo' (one message at a time in send order: what a page that serialized its
   * uploads would get).
   */
  readonly sharing: 'fair' | 'fifo';
}

export const DEFAULT_NET: NetConfig = {
  payloadScale: 1,
  wireChunkBytes: LIMITS.chunkPayloadBytes,
  messageOverheadBytes: 40,
  lowWaterBytes: 256 * 1024,
  sharing: 'fair',
};

interface Msg {
  readonly data: string | ArrayBuffer;
  readonly size: number;
  remaining: number;
}

const EPS_BYTES = 1e-6;

/** One viewer's network attachment: its uplink and its access latency. */
export class Host {
  /** 'fair': channels with bytes queued share the uplink equally. */
  private readonly active: SimChannel[] = [];
  /** 'fifo': the channel of every queued message, in send order; only the first one is being sent. */
  private readonly fifo: SimChannel[] = [];
  private lastMs = 0;
  private timer: unknown;
  /** Virtual bytes that left this uplink. */
  sentBytes = 0;

  constructor(
    readonly net: Network,
    readonly uplinkBytesPerSec: number,
    /** One-way latency of this viewer's access link; a pair's latency is the sum of both. */
    readonly accessLatencyMs: number,
  ) {}

  private get isFifo(): boolean {
    return this.net.cfg.sharing === 'fifo';
  }

  /** @internal */
  enqueue(ch: SimChannel, m: Msg): void {
    this.advance();
    ch.queue.push(m);
    ch.queuedBytes += m.size;
    if (this.isFifo) this.fifo.push(ch);
    else if (ch.queue.length === 1) this.active.push(ch);
    this.reschedule();
  }

  /** @internal Drops everything a closing channel still had queued. */
  drop(ch: SimChannel): void {
    this.advance();
    if (this.isFifo) {
      const keep = this.fifo.filter((c) => c !== ch);
      this.fifo.length = 0;
      this.fifo.push(...keep);
    } else {
      const i = this.active.indexOf(ch);
      if (i >= 0) this.active.splice(i, 1);
    }
    ch.queue.length = 0;
    ch.queuedBytes = 0;
    this.reschedule();
  }

  /** @internal Serializes up to now. */
  advance(): void {
    const now = this.net.sched.now();
    if (now > this.lastMs) {
      const bytes = (this.uplinkBytesPerSec * (now - this.lastMs)) / 1000;
      if (this.isFifo) {
        const head = this.fifo[0]?.queue[0];
        if (head) head.remaining -= bytes;
      } else if (this.active.length > 0) {
        const share = bytes / this.active.length;
        for (const ch of this.active) {
          const head = ch.queue[0];
          if (head) head.remaining -= share;
        }
      }
    }
    this.lastMs = now;
  }

  /** @internal Plans the next milestone (call after anything that changes one). */
  reschedule(): void {
    if (this.timer !== undefined) this.net.sched.cancel(this.timer);
    this.timer = undefined;
    const sending = this.isFifo ? this.fifo.slice(0, 1) : this.active;
    const n = sending.length;
    if (n === 0) return;
    // Next milestone: a message being sent finishes, or a channel with drain waiters crosses low water.
    let minBytes = Infinity;
    for (const ch of sending) {
      const head = ch.queue[0];
      if (!head) continue;
      minBytes = Math.min(minBytes, Math.max(0, head.remaining));
      if (ch.drainWaiters.length > 0) minBytes = Math.min(minBytes, Math.max(0, ch.buffered() - this.net.cfg.lowWaterBytes));
    }
    const ms = (minBytes * n * 1000) / this.uplinkBytesPerSec;
    this.timer = this.net.sched.after(ms, () => this.tick());
  }

  private tick(): void {
    this.timer = undefined;
    this.advance();
    if (this.isFifo) {
      for (;;) {
        const ch = this.fifo[0];
        const head = ch?.queue[0];
        if (!ch || !head) break;
        if (!this.finishHead(ch, head)) {
          ch.checkDrained();
          break;
        }
        this.fifo.shift();
        ch.checkDrained();
      }
    } else {
      for (let i = 0; i < this.active.length; ) {
        const ch = this.active[i]!;
        let head = ch.queue[0];
        while (head && this.finishHead(ch, head)) head = ch.queue[0];
        if (ch.queue.length === 0) {
          ch.queuedBytes = 0;
          this.active.splice(i, 1);
        } else i++;
        ch.checkDrained();
      }
    }
    this.reschedule();
  }

  /** Completes `head` if all its bytes left; it then arrives one latency later. */
  private finishHead(ch: SimChannel, head: Msg): boolean {
    if (head.remaining > EPS_BYTES * head.size + EPS_BYTES) return false;
    ch.queue.shift();
    ch.queuedBytes -= head.size;
    if (ch.queue.length === 0) ch.queuedBytes = 0;
    this.sentBytes += head.size;
    ch.deliverLater(head.data, this.net.sched.now());
    return true;
  }
}

export class Network {
  constructor(
    readonly sched: Scheduler,
    readonly cfg: NetConfig,
  ) {}

  host(uplinkBytesPerSec: number, accessLatencyMs: number): Host {
    return new Host(this, uplinkBytesPerSec, accessLatencyMs);
  }

  /** Two ends of one connection between `a` and `b` (open at once: the caller models setup time). */
  pair(a: Host, b: Host): [SimChannel, SimChannel] {
    const latency = a.accessLatencyMs + b.accessLatencyMs;
    const ca = new SimChannel(this, a, latency);
    const cb = new SimChannel(this, b, latency);
    ca.peer = cb;
    cb.peer = ca;
    return [ca, cb];
  }

  /** Virtual size of a message on the wire. */
  sizeOf(d: string | ArrayBuffer): number {
    const body = typeof d === 'string' ? d.length : FRAME_HEADER_BYTES + (d.byteLength - FRAME_HEADER_BYTES) * this.cfg.payloadScale;
    return body + this.cfg.messageOverheadBytes;
  }
}

/** One end of a simulated data channel, as PeerLink sees it. */
export class SimChannel implements Channel {
  peer: SimChannel | undefined;
  closed = false;
  /** Messages from the other end. */
  onData: ((d: unknown) => void) | undefined;
  /** The other end closed (learned one latency later), like PeerJS `close`. */
  onClose: (() => void) | undefined;
  /** @internal */
  readonly queue: Msg[] = [];
  /** @internal */
  queuedBytes = 0;
  /** @internal */
  readonly drainWaiters: (() => void)[] = [];

  constructor(
    private readonly net: Network,
    readonly host: Host,
    readonly latencyMs: number,
  ) {}

  send(data: string | ArrayBuffer): void {
    // PeerJS reports a send on a closed connection as an error event; the mesh then closes the link.
    if (this.closed) return;
    for (const part of this.wireFrames(data)) {
      const size = this.net.sizeOf(part);
      this.host.enqueue(this, { data: part, size, remaining: size });
    }
  }

  /** A binary frame whose virtual payload exceeds wireChunkBytes, as the frames a page would send. */
  private wireFrames(data: string | ArrayBuffer): (string | ArrayBuffer)[] {
    if (typeof data === 'string') return [data];
    const virtualPayload = (data.byteLength - FRAME_HEADER_BYTES) * this.net.cfg.payloadScale;
    const parts = Math.ceil(virtualPayload / this.net.cfg.wireChunkBytes);
    if (parts <= 1) return [data];
    const f = decodeFrame(data);
    if (!f.ok) return [data];
    const { reqId, totalBytes, offset, payload } = f.value;
    const step = Math.ceil(payload.byteLength / parts);
    const out: ArrayBuffer[] = [];
    for (let at = 0; at < payload.byteLength; at += step) {
      out.push(encodeFrame(reqId, totalBytes, offset + at, payload.subarray(at, Math.min(payload.byteLength, at + step))));
    }
    return out;
  }

  bufferedAmount(): number {
    this.host.advance();
    return Math.max(0, this.buffered());
  }

  drained(): Promise<void> {
    if (this.closed || this.bufferedAmount() <= this.net.cfg.lowWaterBytes) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      // Crossing low water is now a milestone of the uplink.
      this.host.reschedule();
    });
  }

  close(): void {
    if (this.closed) return;
    this.shut();
    const peer = this.peer;
    if (peer) this.net.sched.after(this.latencyMs, () => peer.remoteClosed());
  }

  /** @internal */
  buffered(): number {
    const head = this.queue[0];
    return head ? this.queuedBytes - (head.size - head.remaining) : 0;
  }

  /** @internal */
  deliverLater(data: string | ArrayBuffer, sentAtMs: number): void {
    const peer = this.peer;
    if (!peer) return;
    this.net.sched.at(sentAtMs + this.latencyMs, () => {
      if (!peer.closed) peer.onData?.(data);
    });
  }

  /** @internal */
  checkDrained(): void {
    if (this.drainWaiters.length === 0) return;
    if (!this.closed && this.buffered() > this.net.cfg.lowWaterBytes + EPS_BYTES) return;
    const w = this.drainWaiters.splice(0);
    for (const r of w) r();
  }

  private remoteClosed(): void {
    if (this.closed) return;
    this.shut();
    this.onClose?.();
  }

  private shut(): void {
    this.closed = true;
    this.host.drop(this);
    this.checkDrained();
  }
}
