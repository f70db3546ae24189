import type { Clock } from '../core/clock.js';

/** Samples kept: a few segments' worth of pieces. */
const SAMPLES = 16;
/** How long a measured rate is trusted without a new sample. */
const RATE_MEMORY_MS = 30_000;

/**
 * The rate one peer delivers pieces to this page while requests are pending: bytes over the
 * time each piece took since it was asked for or since the piece before it arrived, whichever
 * is later. With requests pipelined that is the inter-arrival time, i.e. what this peer's
 * uplink gives this page, queueing behind its other uploads included. Summed over the last
 * SAMPLES pieces, so one piece that arrived in a burst does not make a peer look fast.
 */
export class RateMeter {
  private readonly bytes: number[] = [];
  private readonly ms: number[] = [];
  private lastMs = -Infinity;
  private atMs = -Infinity;

  constructor(private readonly clock: Clock) {}

  /** Requests are pending again after none were. */
  busy(): void {
    this.lastMs = -Infinity;
  }

  /** A piece of `bytes` asked for at `sentMs` arrived now. */
  sample(bytes: number, sentMs: number): void {
    const now = this.clock.now();
    const interval = Math.max(1, now - Math.max(sentMs, this.lastMs));
    this.lastMs = now;
    this.atMs = now;
    this.bytes.push(bytes);
    this.ms.push(interval);
    if (this.bytes.length > SAMPLES) {
      this.bytes.shift();
      this.ms.shift();
    }
  }

  /** Bytes/s, undefined before the first piece or when the last one is old. */
  get rate(): number | undefined {
    if (this.clock.now() - this.atMs >= RATE_MEMORY_MS || this.bytes.length === 0) return undefined;
    let b = 0;
    let t = 0;
    for (let i = 0; i < this.bytes.length; i++) {
      b += this.bytes[i]!;
      t += this.ms[i]!;
    }
    return (b * 1000) / t;
  }
}
