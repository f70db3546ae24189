/** The simulated network: viewers' uplinks (Host) and the connections between them (net-config.ts has the model). */
import { FRAME_HEADER_BYTES, writeFrame } from '../protocol/framing.js';
import type { NetConfig } from './net-config.js';
import type { Scheduler } from './scheduler.js';
import { EPS_BYTES, SimChannel, type Msg } from './sim-channel.js';

export { DEFAULT_NET, type NetConfig } from './net-config.js';
export { SimChannel } from './sim-channel.js';

/** Bounds of the wire-frame buffer pool: buffers kept per size, and sizes kept. */
const MAX_POOLED_PER_SIZE = 4096;
const MAX_POOLED_SIZES = 256;

/**
 * One viewer's network attachment: its uplink and its access latency.
 *
 * The uplink is integrated exactly and lazily (`advance`): bytes flow at the
 * uplink's rate, shared equally by the channels with unsent bytes ('fair') or
 * given to the oldest unsent message ('fifo'), and the moment a message's last
 * byte leaves is computed, not waited for. A message then needs one scheduler
 * event, its arrival at the other end (one per channel at a time, see
 * SimChannel), instead of one when it leaves and one when it arrives. The host
 * itself wakes only when the share changes ('fair': a channel runs empty while
 * others still send) or a channel with drain waiters crosses low water.
 */
export class Host {
  /** 'fair': channels with unsent bytes. */
  private active: SimChannel[] = [];
  /** 'fifo': unsent messages in send order, from fifoHead. */
  private fifo: Msg[] = [];
  private fifoHead = 0;
  /** 'fifo': cumulative bytes enqueued and sent on this uplink. */
  private fifoEnqueued = 0;
  private fifoSent = 0;
  /** Channels with drain waiters. */
  private readonly draining = new Set<SimChannel>();
  /** The share (number of active channels) the planned arrivals assume. */
  private plannedShare = 0;
  private lastMs = 0;
  private timer: unknown;
  private timerAt = NaN;
  private readonly wake = (): void => this.onWake();
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
  enqueue(ch: SimChannel, data: string | ArrayBuffer, size: number, pooled: boolean): void {
    this.advance();
    const wasIdle = ch.enqueued === ch.sent;
    ch.enqueued += size;
    const m: Msg = { data, size, ch, end: ch.enqueued, hostEnd: NaN, doneMs: NaN, pooled };
    ch.queue.push(m);
    if (this.isFifo) {
      this.fifoEnqueued += size;
      m.hostEnd = this.fifoEnqueued;
      this.fifo.push(m);
      ch.plan();
    } else if (wasIdle) {
      // One more channel shares the uplink: every unsent message now leaves later.
      this.active.push(ch);
      this.replanAll();
    } else ch.plan();
    this.planWake();
  }

  /** @internal Drops everything a closing channel had not sent yet (what left is still delivered). */
  drop(ch: SimChannel): void {
    this.advance();
    ch.queue.length = ch.unsent;
    ch.enqueued = ch.sent;
    if (this.isFifo) {
      // Messages behind the dropped ones now leave earlier: renumber the rest of the line.
      const rest = this.fifo.slice(this.fifoHead);
      const headPartial = rest[0];
      this.fifo = rest.filter((m) => m.ch !== ch);
      this.fifoHead = 0;
      let acc = this.fifoSent;
      for (const m of this.fifo) {
        acc += m === headPartial ? m.hostEnd - this.fifoSent : m.size;
        m.hostEnd = acc;
      }
      this.fifoEnqueued = acc;
      for (const m of this.fifo) m.ch.plan();
    } else {
      const i = this.active.indexOf(ch);
      if (i >= 0) {
        this.active.splice(i, 1);
        this.replanAll();
      }
    }
    ch.plan();
    this.planWake();
  }

  /** @internal Integrates the uplink up to now: bytes sent per channel, and when each message's last byte left. */
  advance(): void {
    const now = this.net.sched.now();
    if (now <= this.lastMs) return;
    if (this.isFifo) this.advanceFifo(now);
    else if (this.active.length > 0) this.advanceFair(now);
    this.lastMs = now;
    if (!this.isFifo && this.active.length !== this.plannedShare) this.replanAll();
  }

  private advanceFair(now: number): void {
    const perMs = this.uplinkBytesPerSec / 1000;
    let t = this.lastMs;
    while (t < now && this.active.length > 0) {
      const rate = perMs / this.active.length;
      let minLeft = Infinity;
      for (const ch of this.active) minLeft = Math.min(minLeft, ch.enqueued - ch.sent);
      const tEmpty = t + minLeft / rate;
      const t1 = tEmpty < now ? tEmpty : now;
      const bytes = t1 === tEmpty ? minLeft : (t1 - t) * rate;
      let emptied = false;
      for (const ch of this.active) {
        const before = ch.sent;
        ch.sent = before + bytes;
        if (ch.enqueued - ch.sent <= EPS_BYTES) {
          ch.sent = ch.enqueued;
          emptied = true;
        }
        for (let i = ch.unsent; i < ch.queue.length; i++) {
          const m = ch.queue[i]!;
          if (m.end - ch.sent > EPS_BYTES) break;
          m.doneMs = Math.min(t1, t + (m.end - before) / rate);
          this.sentBytes += m.size;
          ch.unsent = i + 1;
        }
      }
      if (emptied) {
        // Their last arrivals are now known (planned at the share they were sent at: the same).
        for (const ch of this.active) if (ch.enqueued === ch.sent) ch.plan();
        this.active = this.active.filter((ch) => ch.enqueued > ch.sent);
      }
      t = t1;
    }
  }

  private advanceFifo(now: number): void {
    const perMs = this.uplinkBytesPerSec / 1000;
    let t = this.lastMs;
    while (t < now && this.fifoHead < this.fifo.length) {
      const m = this.fifo[this.fifoHead]!;
      const left = m.hostEnd - this.fifoSent;
      const done = t + left / perMs;
      if (done > now) {
        const bytes = (now - t) * perMs;
        this.fifoSent += bytes;
        m.ch.sent += bytes;
        break;
      }
      this.fifoSent = m.hostEnd;
      m.ch.sent = m.end;
      m.doneMs = done;
      m.ch.unsent++;
      this.sentBytes += m.size;
      this.fifo[this.fifoHead++] = undefined as unknown as Msg;
      t = done;
    }
    if (this.fifoHead > 1024 && this.fifoHead * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.fifoHead);
      this.fifoHead = 0;
    }
  }

  /** @internal When the unsent message `m` of `ch` leaves if the uplink's share stays as it is now (after advance). */
  projectedDoneMs(m: Msg): number {
    if (this.isFifo) return this.lastMs + ((m.hostEnd - this.fifoSent) * 1000) / this.uplinkBytesPerSec;
    const n = Math.max(1, this.active.length);
    return this.lastMs + ((m.end - m.ch.sent) * n * 1000) / this.uplinkBytesPerSec;
  }

  /** @internal A channel waits for its buffer to drain: crossing low water becomes a wake-up. */
  watchDrain(ch: SimChannel): void {
    this.draining.add(ch);
    this.planWake();
  }

  private replanAll(): void {
    this.plannedShare = this.active.length;
    for (const ch of this.active) ch.plan();
  }

  private onWake(): void {
    this.timer = undefined;
    this.timerAt = NaN;
    this.advance();
    for (const ch of [...this.draining]) if (ch.checkDrained()) this.draining.delete(ch);
    this.planWake();
  }

  /** Next wake-up: a channel runs empty while others share the uplink ('fair'), or a drain waiter's channel crosses low water. */
  private planWake(): void {
    let at = Infinity;
    const perMs = this.uplinkBytesPerSec / 1000;
    if (!this.isFifo) {
      const n = this.active.length;
      if (n >= 2) {
        let minLeft = Infinity;
        for (const ch of this.active) minLeft = Math.min(minLeft, ch.enqueued - ch.sent);
        at = this.lastMs + (minLeft * n) / perMs;
      }
      for (const ch of this.draining) {
        const over = Math.max(0, ch.enqueued - ch.sent - ch.drainBelow);
        at = Math.min(at, this.lastMs + (over * Math.max(1, n)) / perMs);
      }
    } else {
      for (const ch of this.draining) at = Math.min(at, this.fifoDrainAt(ch));
    }
    if (at === this.timerAt) return;
    this.timerAt = at;
    this.timer = this.net.sched.reset(this.timer, at, this.wake);
  }

  /** 'fifo': when `ch`'s unsent bytes fall to low water, walking the line of messages. */
  private fifoDrainAt(ch: SimChannel): number {
    const perMs = this.uplinkBytesPerSec / 1000;
    let unsent = ch.enqueued - ch.sent;
    const low = ch.drainBelow;
    let t = this.lastMs;
    let sent = this.fifoSent;
    for (let i = this.fifoHead; i < this.fifo.length && unsent > low; i++) {
      const m = this.fifo[i]!;
      const left = m.hostEnd - sent;
      if (m.ch === ch && unsent - left <= low) return t + (unsent - low) / perMs;
      if (m.ch === ch) unsent -= left;
      t += left / perMs;
      sent = m.hostEnd;
    }
    return t;
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

  private readonly pool = new Map<number, ArrayBuffer[]>();

  /**
   * A frame as protocol/framing.ts encodeFrame lays it out (writeFrame), in a reused buffer: a run splits
   * millions of page frames into wire frames, and fresh ArrayBuffers (memory outside the JS
   * heap) made the garbage collector run full collections of a large heap far more often.
   */
  frame(reqId: number, totalBytes: number, offset: number, payload: Uint8Array): ArrayBuffer {
    const size = FRAME_HEADER_BYTES + payload.byteLength;
    return writeFrame(this.pool.get(size)?.pop() ?? new ArrayBuffer(size), reqId, totalBytes, offset, payload);
  }

  /** @internal A delivered wire frame's buffer, for the next `frame` of that size. */
  recycle(buf: ArrayBuffer): void {
    let free = this.pool.get(buf.byteLength);
    if (free === undefined) {
      if (this.pool.size >= MAX_POOLED_SIZES) return;
      free = [];
      this.pool.set(buf.byteLength, free);
    }
    if (free.length < MAX_POOLED_PER_SIZE) free.push(buf);
  }

  /** Virtual size of a message on the wire. */
  sizeOf(d: string | ArrayBuffer): number {
    const body = typeof d === 'string' ? d.length : FRAME_HEADER_BYTES + (d.byteLength - FRAME_HEADER_BYTES) * this.cfg.payloadScale;
    return body + this.cfg.messageOverheadBytes;
  }
}
