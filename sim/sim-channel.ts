import type { Channel } from '../client/transport/link-types.js';
import { decodeFrame, FRAME_HEADER_BYTES } from '../protocol/framing.js';
import type { NetConfig } from './net-config.js';
import type { Scheduler } from './scheduler.js';

/** Float residue tolerated when a channel's or message's last byte leaves (virtual bytes). */
export const EPS_BYTES = 1e-3;
/** Float residue tolerated when a message's arrival is due (virtual ms). */
const EPS_MS = 1e-6;

/** @internal A message on a simulated channel. */
export interface Msg {
  readonly data: string | ArrayBuffer;
  readonly size: number;
  readonly ch: SimChannel;
  /** The channel's cumulative enqueued bytes up to and including this message. */
  readonly end: number;
  /** 'fifo': the host's cumulative enqueued bytes up to and including this message. */
  hostEnd: number;
  /** When its last byte left the uplink; NaN while it is still being sent. */
  doneMs: number;
  /** A wire frame the channel made (Network.frame): its buffer is reused once delivered. */
  readonly pooled: boolean;
}

/** What a channel needs of the network (Network in network.ts). */
export interface ChannelNet {
  readonly sched: Scheduler;
  readonly cfg: NetConfig;
  frame(reqId: number, totalBytes: number, offset: number, payload: Uint8Array): ArrayBuffer;
  recycle(buf: ArrayBuffer): void;
  sizeOf(d: string | ArrayBuffer): number;
}

/** What a channel needs of its sender's uplink (Host in network.ts). */
export interface ChannelHost {
  enqueue(ch: SimChannel, data: string | ArrayBuffer, size: number, pooled: boolean): void;
  drop(ch: SimChannel): void;
  advance(): void;
  projectedDoneMs(m: Msg): number;
  watchDrain(ch: SimChannel): void;
}

/**
 * One end of a simulated data channel, as PeerLink sees it. Its messages wait
 * in `queue`: [0, unsent) have left the uplink (their arrival is known), the
 * rest are being sent. One scheduler entry per channel at a time delivers them:
 * at the first message's arrival, known or projected at the uplink's current
 * share (the host replans it when the share changes).
 */
export class SimChannel implements Channel {
  peer: SimChannel | undefined;
  closed = false;
  /** Messages from the other end. */
  onData: ((d: unknown) => void) | undefined;
  /** The other end closed (learned one latency later), like PeerJS `close`. */
  onClose: (() => void) | undefined;
  /** @internal Messages not delivered yet, in order. */
  queue: Msg[] = [];
  /** @internal Index in `queue` of the first message still being sent. */
  unsent = 0;
  /** @internal Cumulative virtual bytes enqueued and sent on this channel. */
  enqueued = 0;
  sent = 0;
  /** @internal */
  readonly drainWaiters: (() => void)[] = [];
  /** @internal The buffered bytes at or below which the drain waiters are woken. */
  drainBelow = 0;
  private timer: unknown;
  private timerAt = NaN;
  private readonly deliverDue = (): void => this.onTimer();

  constructor(
    private readonly net: ChannelNet,
    readonly host: ChannelHost,
    readonly latencyMs: number,
  ) {}

  send(data: string | ArrayBuffer): void {
    // PeerJS reports a send on a closed connection as an error event; the mesh then closes the link.
    if (this.closed) return;
    if (typeof data === 'string') return this.host.enqueue(this, data, this.net.sizeOf(data), false);
    const parts = this.wireFrames(data);
    for (const part of parts) this.host.enqueue(this, part, this.net.sizeOf(part), part !== data);
  }

  /**
   * A binary frame whose virtual payload exceeds wireChunkBytes, as the frames a page would send.
   * The parts' buffers come from the network's pool and go back to it once delivered.
   */
  private wireFrames(data: ArrayBuffer): ArrayBuffer[] {
    const virtualPayload = (data.byteLength - FRAME_HEADER_BYTES) * this.net.cfg.payloadScale;
    const parts = Math.ceil(virtualPayload / this.net.cfg.wireChunkBytes);
    if (parts <= 1) return [data];
    const f = decodeFrame(data);
    if (!f.ok) return [data];
    const { reqId, totalBytes, offset, payload } = f.value;
    const step = Math.ceil(payload.byteLength / parts);
    const out: ArrayBuffer[] = [];
    for (let at = 0; at < payload.byteLength; at += step) {
      out.push(this.net.frame(reqId, totalBytes, offset + at, payload.subarray(at, Math.min(payload.byteLength, at + step))));
    }
    return out;
  }

  bufferedAmount(): number {
    this.host.advance();
    return Math.max(0, this.buffered());
  }

  drained(belowBytes: number = this.net.cfg.lowWaterBytes): Promise<void> {
    if (this.closed || this.bufferedAmount() <= belowBytes) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainBelow = this.drainWaiters.length === 0 ? belowBytes : Math.min(this.drainBelow, belowBytes);
      this.drainWaiters.push(resolve);
      // Crossing low water is now a wake-up of the uplink.
      this.host.watchDrain(this);
    });
  }

  close(): void {
    if (this.closed) return;
    this.shut();
    const peer = this.peer;
    if (peer) this.net.sched.after(this.latencyMs, () => peer.remoteClosed());
  }

  /** @internal Unsent bytes. */
  buffered(): number {
    return this.enqueued - this.sent;
  }

  /** @internal (Re)sets the delivery entry to the first undelivered message's arrival. Call after the host advanced. */
  plan(): void {
    const m = this.queue[0];
    const at = m === undefined ? Infinity : (Number.isNaN(m.doneMs) ? this.host.projectedDoneMs(m) : m.doneMs) + this.latencyMs;
    if (at === this.timerAt) return;
    this.timerAt = at;
    this.timer = this.net.sched.reset(this.timer, at, this.deliverDue);
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = NaN;
    this.host.advance();
    const now = this.net.sched.now();
    const peer = this.peer;
    let n = 0;
    // Everything that arrived by now, in order (a message the host finished early is replanned, not lost).
    while (n < this.unsent && this.queue[n]!.doneMs + this.latencyMs <= now + EPS_MS) n++;
    const due = n > 0 ? this.queue.splice(0, n) : [];
    this.unsent -= n;
    this.plan();
    for (const m of due) {
      if (peer === undefined || peer.closed) continue;
      peer.onData?.(m.data);
      // PeerLink.onFrame copies a frame's payload into its Reassembly before it returns (origin.ts
      // checks every reassembled copy byte for byte, so a page that kept the buffer would show).
      if (m.pooled && typeof m.data !== 'string') this.net.recycle(m.data);
    }
  }

  /** @internal Resolves drain waiters once at or below low water (or closed); true when none are left. */
  checkDrained(): boolean {
    if (this.drainWaiters.length === 0) return true;
    if (!this.closed && this.buffered() > this.drainBelow + EPS_BYTES) return false;
    const w = this.drainWaiters.splice(0);
    for (const r of w) r();
    return true;
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
