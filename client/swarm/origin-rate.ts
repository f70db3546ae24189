/** Origin fetches remembered: the last few owner fetches, fills and fallbacks. */
const SAMPLES = 8;

/**
 * How long the origin takes to send this page a number of bytes, from its recent fetches
 * (owner fetches, fills of missing pieces, the worker's fallbacks for the player): the
 * quickest one's time as the fixed cost, plus the bytes at the rate all of them averaged.
 * Conservative on purpose: the player's deadline must hold the fill, and a fill started a
 * little early costs a few pieces the peers might still have sent.
 */
export class OriginRate {
  private readonly bytes: number[] = [];
  private readonly ms: number[] = [];

  record(bytes: number, ms: number): void {
    if (!(bytes > 0) || !(ms >= 0) || !Number.isFinite(ms)) return;
    this.bytes.push(bytes);
    this.ms.push(ms);
    if (this.bytes.length > SAMPLES) {
      this.bytes.shift();
      this.ms.shift();
    }
  }

  /** Predicted ms to fetch `bytes`; 0 before any fetch was measured. */
  predictMs(bytes: number): number {
    if (this.bytes.length === 0) return 0;
    let b = 0;
    let t = 0;
    let fixed = Infinity;
    for (let i = 0; i < this.bytes.length; i++) {
      b += this.bytes[i]!;
      t += this.ms[i]!;
      fixed = Math.min(fixed, this.ms[i]!);
    }
    return fixed + (bytes * t) / b;
  }
}
