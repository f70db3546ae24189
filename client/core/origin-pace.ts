/** How long ago a measured origin round trip still counts. */
const MEMORY_MS = 30_000;
/** Round trips remembered (a page sees a few per segment duration at most). */
const MAX_SAMPLES = 16;
/** The fallback must fit this many times the slowest recent round trip: the player still has to append it. */
const SLACK = 2;

/**
 * How long an origin fetch through the worker takes this page right now: the owner fetches it
 * makes for the swarm and the worker's fallbacks for its player, and how late the page's own
 * timers run (client/lag-monitor.ts: the append after a fallback waits that long). On a starved machine (a busy
 * phone, many tabs, ten browsers on two cores) that is seconds, not tens of milliseconds, and a
 * fixed safety margin would leave the fallback too little of the buffer. `marginMs` grows to
 * cover it, so a peer is waited for only while the origin could still answer in time.
 */
export class OriginPace {
  private readonly samples: { atMs: number; ms: number }[] = [];

  constructor(private readonly maxMarginMs: number) {}

  record(ms: number, atMs: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.samples.push({ atMs, ms });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
  }

  /** The safety margin to keep in the buffer: `baseMs`, or more when recent origin fetches were slow. */
  marginMs(baseMs: number, nowMs: number): number {
    let slowest = 0;
    for (const s of this.samples) if (nowMs - s.atMs <= MEMORY_MS) slowest = Math.max(slowest, s.ms);
    return Math.min(this.maxMarginMs, Math.max(baseMs, SLACK * slowest));
  }
}
