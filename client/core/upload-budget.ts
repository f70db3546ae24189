/**
 * A token bucket for this viewer's upload: every frame sent to a peer takes
 * its bytes from the bucket and waits when it runs dry, so the bytes sent over
 * any period T stay within burst + rate * T. Rate 0 means no limit.
 */
export class UploadBudget {
  private tokens: number;
  private last: number;

  constructor(
    private rateBytesPerSec: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.tokens = this.burst();
    this.last = this.now();
  }

  get rate(): number {
    return this.rateBytesPerSec;
  }

  setRate(bytesPerSec: number): void {
    this.refill();
    this.rateBytesPerSec = Math.max(0, bytesPerSec);
    this.tokens = Math.min(this.tokens, this.burst());
  }

  /** Resolves when `bytes` may be sent. */
  async take(bytes: number): Promise<void> {
    if (this.rateBytesPerSec <= 0) return;
    this.refill();
    this.tokens -= bytes;
    if (this.tokens < 0) await this.sleep((-this.tokens / this.rateBytesPerSec) * 1000);
  }

  /**
   * A quarter second of rate. A frame larger than that still goes: the bucket goes into
   * debt and the sender waits it off, so bytes over any period T stay within burst + rate * T.
   */
  private burst(): number {
    return this.rateBytesPerSec / 4;
  }

  private refill(): void {
    const t = this.now();
    if (this.rateBytesPerSec > 0) this.tokens = Math.min(this.burst(), this.tokens + ((t - this.last) / 1000) * this.rateBytesPerSec);
    this.last = t;
  }
}
