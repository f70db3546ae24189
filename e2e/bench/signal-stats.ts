/**
 * Relay latencies as a histogram (0.1 ms buckets below 1 s, 100 ms buckets above, up to 60 s),
 * so several client processes' samples add up exactly and percentiles cost no sorting.
 */
const FINE = 10_000;
const COARSE = 600;

export type Histogram = number[];

export function newHistogram(): Histogram {
  return new Array<number>(FINE + COARSE).fill(0);
}

export function record(h: Histogram, ms: number): void {
  const i = ms < 1000 ? Math.max(0, Math.floor(ms * 10)) : FINE + Math.min(COARSE - 1, Math.floor((ms - 1000) / 100));
  h[i] = (h[i] ?? 0) + 1;
}

export function addInto(into: Histogram, h: readonly number[]): void {
  for (let i = 0; i < into.length; i++) into[i] = (into[i] ?? 0) + (h[i] ?? 0);
}

export function count(h: Histogram): number {
  return h.reduce((a, b) => a + b, 0);
}

/** The `q` quantile (0..1) in ms, at the upper edge of its bucket; null without samples. */
export function quantileMs(h: Histogram, q: number): number | null {
  const n = count(h);
  if (n === 0) return null;
  const want = Math.ceil(q * n);
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i] ?? 0;
    if (seen >= want) return i < FINE ? (i + 1) / 10 : 1000 + (i - FINE + 1) * 100;
  }
  return null;
}
