/**
 * Per-key token buckets (keys: client addresses), bounded in count: the
 * oldest key is forgotten first. Used to cap tracker and hash lookups.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; lastMs: number }>();

  constructor(
    private readonly burst: number,
    private readonly perSec: number,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** True if `key` may make one more request now. */
  allow(key: string): boolean {
    const t = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.burst, lastMs: t };
      if (this.buckets.size >= this.maxKeys) {
        const first = this.buckets.keys().next();
        if (!first.done) this.buckets.delete(first.value);
      }
    } else {
      this.buckets.delete(key);
    }
    this.buckets.set(key, b);
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.lastMs) / 1000) * this.perSec);
    b.lastMs = t;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
