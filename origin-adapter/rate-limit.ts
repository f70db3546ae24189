/**
 * Per-key token buckets (keys: client addresses), bounded in count: the
 * oldest key is forgotten first. Used to cap tracker and hash lookups.
 */
import { putBounded } from '../protocol/bounded.js';
import { TokenBucket } from '../protocol/token-bucket.js';

export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

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
    return b.take(t);
  }
}
