import { isRecord, isSafeId } from '../../protocol/guards.js';
import { LIMITS } from '../../protocol/limits.js';
import { countReceived, countSent, type ChannelCounts } from './channel-counts.js';
import type { Channel, PeerLink } from './peer-link.js';

/**
 * One connection per remote peer for all of a page's swarms (video, audio, a rendition the
 * player switched to): each swarm gets its own data channel on the connection's
 * RTCPeerConnection, negotiated out of band (`negotiated: true` with an agreed SCTP stream id),
 * so no new offer/answer and no new ICE/DTLS handshake is needed. The PeerJS data channel of
 * the connection carries only the few control messages below. Measured on 2 cores: each
 * RTCPeerConnection costs CPU in every page of the mesh, and a join opened two per peer.
 *
 * Control messages (JSON strings on the PeerJS channel):
 *   {"mux":"open","swarm":S,"ch":K}  I made channel K for swarm S: make yours and answer
 *   {"mux":"ok","ch":K}              made and linked: send on it
 *   {"mux":"no","ch":K}              refused (swarm unknown or full): close yours
 *   {"mux":"close","ch":K}           the link on K is closed
 * The page that dialed the connection picks even ids, the other odd ones, so both may open
 * channels at once without a clash; when both ask for the same swarm at once, the ask of the
 * page with the smaller id wins. A channel is written only after the other side made it
 * (its "ok", or the "open" it sent): data for a stream the other side has no channel for is lost.
 */

/** What a session needs of an RTCDataChannel (a fake in tests). */
export interface SubChannel {
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType: string;
  send(data: string | ArrayBuffer): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'bufferedamountlow' | 'error', f: () => void): void;
  addEventListener(type: 'message', f: (e: { readonly data: unknown }) => void): void;
  removeEventListener(type: string, f: (...a: never[]) => void): void;
}

export interface SessionHost {
  /** The link for swarm `swarm` on a new channel (`outgoing`: this page asked for it), or undefined to refuse. */
  attach(remoteId: string, swarm: string, ch: Channel, outgoing: boolean): PeerLink | undefined;
  /** A channel this page asked for was answered (linked or refused) or gave up. */
  settled(remoteId: string, swarm: string): void;
  /** No channel is left or pending: the connection may close. */
  onIdle(session: MuxSession): void;
  /** Where the messages of every channel are counted by kind (the page's stats), if anywhere. */
  readonly counts?: ChannelCounts;
}

export interface SessionTimers {
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
  setInterval(f: () => void, ms: number): unknown;
  clearInterval(t: unknown): void;
}

const realTimers: SessionTimers = {
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
  setInterval: (f, ms) => setInterval(f, ms),
  clearInterval: (t) => clearInterval(t as ReturnType<typeof setInterval>),
};

/** Stream ids used for swarm channels: above PeerJS's own channel (0 or 1), below Chromium's limit. */
const FIRST_ID = 16;
const LAST_ID = 1023;
/** A session carries at most this many swarm channels (a page joins at most 4 swarms). */
const MAX_CHANNELS = 8;
export const LOW_WATER_BYTES = 256 * 1024;
/** Control messages are tiny; anything longer is not ours. */
const MAX_CONTROL_CHARS = 4096;

interface Sub {
  readonly id: number;
  readonly swarm: string;
  readonly dc: SubChannel;
  readonly outgoing: boolean;
  link: PeerLink | undefined;
  /** Messages that arrived before the link was attached (the other side's hello). */
  early: unknown[];
  timer: unknown;
  closed: boolean;
}

/** Resolves when the channel's send buffer is low again (or it closed). */
export function drained(dc: SubChannel, timers: SessionTimers = realTimers, belowBytes: number = LOW_WATER_BYTES): Promise<void> {
  return new Promise((resolve) => {
    if (dc.bufferedAmount <= belowBytes || dc.readyState !== 'open') return resolve();
    // The event fires when the buffer falls to the threshold; the uploader waits for "this piece has left".
    dc.bufferedAmountLowThreshold = belowBytes;
    const done = (): void => {
      timers.clearInterval(poll);
      dc.removeEventListener('bufferedamountlow', done);
      dc.removeEventListener('close', done);
      resolve();
    };
    // Polling as well: 'bufferedamountlow' is not fired when the threshold was crossed before we listened.
    const poll = timers.setInterval(() => {
      if (dc.bufferedAmount <= belowBytes || dc.readyState !== 'open') done();
    }, 50);
    dc.addEventListener('bufferedamountlow', done);
    dc.addEventListener('close', done);
  });
}

function parseControl(data: unknown): { mux: string; ch: number; swarm?: string } | undefined {
  if (typeof data !== 'string' || data.length > MAX_CONTROL_CHARS) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!isRecord(v)) return undefined;
  const mux = v['mux'];
  const ch = v['ch'];
  if (typeof mux !== 'string' || typeof ch !== 'number' || !Number.isInteger(ch) || ch < FIRST_ID || ch > LAST_ID) return undefined;
  if (mux === 'open') {
    const swarm = v['swarm'];
    return isSafeId(swarm, LIMITS.swarmIdChars) ? { mux, ch, swarm } : undefined;
  }
  return mux === 'ok' || mux === 'no' || mux === 'close' ? { mux, ch } : undefined;
}

export class MuxSession {
  private readonly subs = new Map<number, Sub>();
  private nextId: number;
  private closed = false;

  /**
   * @param dialer this page opened the connection (picks even channel ids)
   * @param sendControl sends a string on the connection's own channel
   * @param makeChannel creates the negotiated data channel with this id on the connection
   */
  constructor(
    private readonly localId: string,
    readonly remoteId: string,
    private readonly dialer: boolean,
    private readonly sendControl: (s: string) => void,
    private readonly makeChannel: (id: number) => SubChannel,
    private readonly host: SessionHost,
    private readonly openTimeoutMs: number,
    private readonly timers: SessionTimers = realTimers,
  ) {
    this.nextId = dialer ? FIRST_ID : FIRST_ID + 1;
  }

  /** A channel of `swarm` is open or being opened on this connection. */
  has(swarm: string): boolean {
    for (const s of this.subs.values()) if (s.swarm === swarm && !s.closed) return true;
    return false;
  }

  /** Channels not yet answered that this page asked for in `swarm`. */
  pending(swarm: string): boolean {
    for (const s of this.subs.values()) if (s.swarm === swarm && s.outgoing && !s.link && !s.closed) return true;
    return false;
  }

  get size(): number {
    return this.subs.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Ask the other page for a channel of `swarm`. False when none can be opened now. */
  open(swarm: string): boolean {
    if (this.closed || this.has(swarm) || this.subs.size >= MAX_CHANNELS) return false;
    const id = this.freeId();
    if (id === undefined) return false;
    let dc: SubChannel;
    try {
      dc = this.makeChannel(id);
    } catch {
      return false;
    }
    const sub = this.addSub(id, swarm, dc, true);
    sub.timer = this.timers.setTimeout(() => {
      if (!sub.link) this.closeSub(sub, true);
    }, this.openTimeoutMs);
    this.control({ mux: 'open', swarm, ch: id });
    return true;
  }

  /**
   * A message on the connection's own channel: only control messages belong there; anything
   * else is a protocol violation and closes the connection.
   */
  onControl(data: unknown): void {
    countReceived(this.host.counts, data, 'mux');
    const m = parseControl(data);
    if (!m) return this.close();
    const sub = this.subs.get(m.ch);
    switch (m.mux) {
      case 'open': {
        // The other side picks ids of its own parity only; one that is ours or in use breaks the rule.
        if (sub || m.ch % 2 === (this.dialer ? 0 : 1) || m.swarm === undefined) return this.close();
        this.accept(m.ch, m.swarm);
        return;
      }
      case 'ok':
        if (sub && sub.outgoing && !sub.link && !sub.closed) this.whenOpen(sub, () => this.link(sub));
        return;
      case 'no':
      case 'close':
        if (sub) this.closeSub(sub, false);
        return;
    }
  }

  /** The connection is gone: every link on it closes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const sub of [...this.subs.values()]) this.closeSub(sub, false);
    this.host.onIdle(this);
  }

  private accept(id: number, swarm: string): void {
    const mine = [...this.subs.values()].find((x) => x.swarm === swarm && !x.closed);
    // Both pages asked for the same swarm at once: the one with the smaller id keeps its own ask.
    if (mine && mine.outgoing && !mine.link && this.localId > this.remoteId) this.closeSub(mine, true);
    if (this.has(swarm) || this.subs.size >= MAX_CHANNELS) {
      this.control({ mux: 'no', ch: id });
      return;
    }
    let dc: SubChannel;
    try {
      dc = this.makeChannel(id);
    } catch {
      this.control({ mux: 'no', ch: id });
      return;
    }
    const sub = this.addSub(id, swarm, dc, false);
    this.whenOpen(sub, () => {
      if (this.link(sub)) this.control({ mux: 'ok', ch: id });
      else this.control({ mux: 'no', ch: id });
    });
  }

  private addSub(id: number, swarm: string, dc: SubChannel, outgoing: boolean): Sub {
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    const sub: Sub = { id, swarm, dc, outgoing, link: undefined, early: [], timer: undefined, closed: false };
    this.subs.set(id, sub);
    dc.addEventListener('message', (e) => {
      countReceived(this.host.counts, e.data);
      if (sub.link) sub.link.receive(e.data);
      else if (sub.early.length < 64) sub.early.push(e.data);
    });
    const gone = (): void => this.closeSub(sub, false);
    dc.addEventListener('close', gone);
    dc.addEventListener('error', gone);
    return sub;
  }

  private whenOpen(sub: Sub, f: () => void): void {
    if (sub.dc.readyState === 'open') return f();
    const go = (): void => {
      sub.dc.removeEventListener('open', go);
      if (!sub.closed) f();
    };
    sub.dc.addEventListener('open', go);
  }

  /** Attach the swarm's link to an open channel. False (and the channel closed) when refused. */
  private link(sub: Sub): boolean {
    if (sub.closed) return false;
    const ch: Channel = {
      send: (d) => {
        sub.dc.send(d);
        countSent(this.host.counts, d);
      },
      bufferedAmount: () => sub.dc.bufferedAmount,
      drained: (below) => drained(sub.dc, this.timers, below),
      close: () => this.closeSub(sub, true),
    };
    const link = this.host.attach(this.remoteId, sub.swarm, ch, sub.outgoing);
    if (sub.outgoing) {
      this.timers.clearTimeout(sub.timer);
      this.host.settled(this.remoteId, sub.swarm);
    }
    if (!link) {
      this.closeSub(sub, sub.outgoing);
      return false;
    }
    sub.link = link;
    link.start();
    for (const d of sub.early.splice(0)) link.receive(d);
    return true;
  }

  /** @param tell the other side is told (this side closed it, or its "open" got no answer in time) */
  private closeSub(sub: Sub, tell: boolean): void {
    if (sub.closed) return;
    sub.closed = true;
    this.timers.clearTimeout(sub.timer);
    this.subs.delete(sub.id);
    if (tell && !this.closed) this.control({ mux: 'close', ch: sub.id });
    try {
      sub.dc.close();
    } catch {
      // Already closed.
    }
    if (sub.outgoing && !sub.link) this.host.settled(this.remoteId, sub.swarm);
    sub.link?.close('closed');
    if (this.subs.size === 0 && !this.closed) this.host.onIdle(this);
  }

  private freeId(): number | undefined {
    for (let tries = 0; tries < (LAST_ID - FIRST_ID) / 2 + 1; tries++) {
      const id = this.nextId;
      this.nextId += 2;
      if (this.nextId > LAST_ID) this.nextId = this.dialer ? FIRST_ID : FIRST_ID + 1;
      if (!this.subs.has(id)) return id;
    }
    return undefined;
  }

  private control(m: Record<string, unknown>): void {
    if (this.closed) return;
    try {
      const s = JSON.stringify(m);
      this.sendControl(s);
      countSent(this.host.counts, s, 'mux');
    } catch {
      this.close();
    }
  }
}
