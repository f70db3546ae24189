/**
 * Per-key token buckets (keys: client addresses), bounded in count: the
 * oldest key is forgotten first. Used to cap tracker and hash lookups.
 */
import { putBounded } from '../protocol/bounded.js';
import { TokenBucket } from '../protocol/token-bucket.js';

export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  /** Told of every request allowed (cluster/rate-share.ts tells the other nodes). */
  onAllow: ((key: string) => void) | undefined;

  constructor(
    private readonly burst: number,
    private readonly perSec: number,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** True if `key` may make one more request now. */
  allow(key: string): boolean {
    const t = this.now();
    const b = this.buckets.get(key) ?? new TokenBucket(this.burst, this.perSec, t);
    // Re-inserting keeps recently active keys; the least recently seen is forgotten first.
    putBounded(this.buckets, key, b, this.maxKeys);
    if (!b.take(t)) return false;
    this.onAllow?.(key);
    return true;
  }

  /** `n` requests of `key` that another node allowed: they count here too. */
  charge(key: string, n: number): void {
    const t = this.now();
    const b = this.buckets.get(key) ?? new TokenBucket(this.burst, this.perSec, t);
    putBounded(this.buckets, key, b, this.maxKeys);
    b.charge(n, t);
  }
}
