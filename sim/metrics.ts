/**
 * Counters of one run, over the steady window (virtual time >= windowFromMs) unless named
 * otherwise. Byte counts (origin and players) are over the segments that became available in
 * [windowFromMs, segmentsToMs): every byte of a segment is counted on both sides, whenever it
 * moved, so a segment fetched before the window and played in it cannot lift offload above
 * its bound, and one listed at the end, whose players have not asked yet, cannot lower it.
 */
export class Metrics {
  /** Virtual segment bytes handed to players. */
  bytesToPlayers = 0;
  /** Segments handed to players, by the hop count of the copy (0 = fetched from the origin). */
  readonly hops = new Map<number, number>();
  /** Segment boundaries crossed by players, and those where the next segment was missing. */
  plays = 0;
  stalls = 0;
  stallMs = 0;
  /** Player requests: answered from the page's store at once, answered after waiting (peer), left to the origin. */
  requestsStore = 0;
  /** Manifest reads a page asked for after a peer's `fresh` notice (in the window). */
  manifestRefreshes = 0;
  requestsPeerWait = 0;
  requestsOrigin = 0;
  /** Player requests left to the origin after waiting (not startup): by viewer kind, and the wait they were given. */
  readonly missesBy = new Map<string, number>();
  readonly missDeadlines = new Hist();
  /** The first few such misses with what the wait went to (Swarm.get steps). */
  readonly missSamples: { atSec: number; seq: number; deadlineSec: number; viewer: string; steps: readonly string[] }[] = [];
  /** Connections opened and refused by one end (full, banned or a duplicate: client/link-policy.ts). */
  openedLinks = 0;
  refusedLinks = 0;
  /** Links closed, by reason (the local end's reason; 'closed' = the other end closed it). */
  readonly closedLinks = new Map<string, number>();
  /** Seconds behind the live edge, sampled every second per playing viewer. */
  private readonly lagHist = new Hist();
  /** uploaded / downloaded per viewer (taken when it leaves or at the end). */
  readonly uploadRatios: number[] = [];
  readonly uploaderRatios: number[] = [];

  /** Delays from a segment's availability at the origin to events about it, in 10 ms bins. */
  readonly delays = new Map<DelayKind, Hist>();

  constructor(
    readonly windowFromMs: number,
    /** Segments available from this time on are not counted (their players ask after the run ends). */
    readonly segmentsToMs: number = Infinity,
  ) {}

  /** The bytes of a segment available at `availableAtMs` count toward offload. */
  countsSegment(availableAtMs: number): boolean {
    return availableAtMs >= this.windowFromMs && availableAtMs < this.segmentsToMs;
  }

  delay(kind: DelayKind, sec: number): void {
    let h = this.delays.get(kind);
    if (!h) this.delays.set(kind, (h = new Hist()));
    h.add(sec);
  }

  inWindow(t: number): boolean {
    return t >= this.windowFromMs;
  }

  /** A player got `virtualBytes` of the segment available at `availableAtMs`. */
  delivered(availableAtMs: number, virtualBytes: number, hop: number): void {
    if (!this.countsSegment(availableAtMs)) return;
    this.bytesToPlayers += virtualBytes;
    this.hops.set(hop, (this.hops.get(hop) ?? 0) + 1);
  }

  lag(sec: number): void {
    this.lagHist.add(sec);
  }

  lagPercentile(p: number): number | null {
    return this.lagHist.percentile(p);
  }
}

/**
 * ownerCopy: the origin fetch of a rendezvous owner completed; peerCopy: a copy pulled
 * from a peer arrived; playerRequest: a player asked for the segment.
 */
export type DelayKind = 'ownerCopy' | 'peerCopy' | 'playerRequest';

/** A histogram of seconds in 10 ms bins (0..120 s). */
export class Hist {
  private readonly bins = new Uint32Array(12_000);
  count = 0;

  add(sec: number): void {
    const bin = Math.min(this.bins.length - 1, Math.max(0, Math.round(sec * 100)));
    this.bins[bin]!++;
    this.count++;
  }

  percentile(p: number): number | null {
    if (this.count === 0) return null;
    const want = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) {
      seen += this.bins[i]!;
      if (seen >= want) return i / 100;
    }
    return (this.bins.length - 1) / 100;
  }
}

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? null;
}

export function round(x: number, digits?: number): number;
export function round(x: number | null, digits?: number): number | null;
export function round(x: number | null, digits = 4): number | null {
  if (x === null || !Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
