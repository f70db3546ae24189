/**
 * A token bucket for counting events against a rate: `burst` at once, then
 * `perSec` per second. Time is passed in (ms), so callers use their own clock.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly burst: number,
    private readonly perSec: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes one token; false when the rate is exceeded. */
  take(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Takes `n` tokens spent elsewhere (another server counting the same key), into debt if need
   * be, at most one burst deep: the key then waits until the rate has paid it back.
   */
  charge(n: number, nowMs: number): void {
    this.refill(nowMs);
    this.tokens = Math.max(-this.burst, this.tokens - n);
  }

  private refill(nowMs: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.perSec);
    this.lastMs = nowMs;
  }
}
