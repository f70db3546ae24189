/**
 * One link's health as this page sees it: when the peer was last heard from and last sent to,
 * its round-trip time, timeouts that make it count as failing, and `busy` answers.
 */
import type { Clock } from '../core/clock.js';
import type { PeerMessage } from '../../protocol/peer.js';

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
/** After a `busy` answer, how long the peer counts as busy. */
export const BUSY_BACKOFF_MS = 300;

export class LinkHealth {
  private lastHeardMs: number;
  private lastSentMs: number;
  private rttEwma: number | undefined;
  private pingN = 0;
  private pingSentMs = 0;
  private lastPingMs = -Infinity;
  private strikes = 0;
  private lastStrikeMs = 0;
  private lastBusyMs = -Infinity;

  constructor(private readonly clock: Clock) {
    this.lastHeardMs = clock.now();
    this.lastSentMs = clock.now();
  }

  heard(): void {
    this.lastHeardMs = this.clock.now();
  }

  sent(): void {
    this.lastSentMs = this.clock.now();
  }

  /** Milliseconds since anything arrived from this peer. */
  get silentMs(): number {
    return this.clock.now() - this.lastHeardMs;
  }

  /** Smoothed round-trip time in ms, undefined before the first pong. */
  get rttMs(): number | undefined {
    return this.rttEwma;
  }

  /**
   * What a periodic keepalive should do: 'dead' (close the link), a ping (RTT is due), an
   * empty `have` (nothing sent for KEEPALIVE_MS), or nothing.
   */
  keepalive(ready: boolean): 'dead' | PeerMessage | undefined {
    const now = this.clock.now();
    if (this.silentMs > DEAD_MS) return 'dead';
    if (!ready) return undefined;
    if (now - this.lastPingMs >= PING_EVERY_MS) {
      this.lastPingMs = this.pingSentMs = now;
      this.pingN = (this.pingN + 1) >>> 0;
      return { type: 'ping', n: this.pingN };
    }
    return now - this.lastSentMs >= KEEPALIVE_MS ? { type: 'have', segments: [] } : undefined;
  }

  pong(n: number): void {
    if (n !== this.pingN || this.pingSentMs <= 0) return;
    const rtt = this.clock.now() - this.pingSentMs;
    this.rttEwma = this.rttEwma === undefined ? rtt : 0.7 * this.rttEwma + 0.3 * rtt;
    this.pingSentMs = 0;
  }

  busy(): void {
    this.lastBusyMs = this.clock.now();
  }

  /** The peer answered `busy` within the last BUSY_BACKOFF_MS. */
  get recentlyBusy(): boolean {
    return this.clock.now() - this.lastBusyMs < BUSY_BACKOFF_MS;
  }

  /** A piece arrived (clears the strikes) or a request timed out (one more strike). */
  delivered(): void {
    this.strikes = 0;
  }

  timedOut(): void {
    const now = this.clock.now();
    this.strikes = now - this.lastStrikeMs < STRIKE_MEMORY_MS ? this.strikes + 1 : 1;
    this.lastStrikeMs = now;
  }

  /** Recent piece requests to this peer timed out: route around it. */
  get failing(): boolean {
    return this.strikes >= STRIKES_TO_FAIL && this.clock.now() - this.lastStrikeMs < STRIKE_MEMORY_MS;
  }
}
