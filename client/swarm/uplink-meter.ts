/**
 * What this page's uplink carries, measured: bytes over the time at least one piece was on the
 * wire (from the moment it was handed to a channel until that channel's buffer drained). While
 * the uplink is busy it sends at its capacity, so the rate is the capacity whatever share of the
 * time it is busy; a page learns its uplink from its own uploads, which no browser API tells it.
 * Older busy time weighs less (half after HALF_LIFE_MS of busy time), so a changed uplink shows.
 */
const HALF_LIFE_MS = 4000;
/** Fewer busy milliseconds than this measured: no estimate yet. */
const MIN_BUSY_MS = 300;

export class UplinkMeter {
  private active = 0;
  private busySince = 0;
  private bytes = 0;
  private busyMs = 0;
  private pendingBytes = 0;

  constructor(private readonly now: () => number) {}

  /** A piece was handed to a channel. */
  begin(): void {
    if (this.active++ === 0) this.busySince = this.now();
  }

  /** A piece of `bytes` left the channel's buffer (or its send ended otherwise: `bytes` 0). */
  end(bytes: number): void {
    if (this.active === 0) return;
    this.pendingBytes += bytes;
    if (--this.active > 0) return;
    const ms = Math.max(0, this.now() - this.busySince);
    const keep = Math.pow(0.5, ms / HALF_LIFE_MS);
    this.bytes = this.bytes * keep + this.pendingBytes;
    this.busyMs = this.busyMs * keep + ms;
    this.pendingBytes = 0;
  }

  /** The uplink's capacity in bytes/s, undefined until enough busy time was measured. */
  get bytesPerSec(): number | undefined {
    if (this.busyMs < MIN_BUSY_MS || this.bytes <= 0) return undefined;
    return (this.bytes * 1000) / this.busyMs;
  }
}
