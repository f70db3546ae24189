/** Byte-range requests to the origin for one segment's missing pieces, at most. */
export const MAX_FILL_RANGES = 4;

/**
 * The missing pieces (ascending indices) as runs [first, last] of consecutive pieces for
 * origin Range requests, at most MAX_FILL_RANGES: beyond that, the runs with the smallest gap
 * between them are merged (a few pieces fetched twice cost less than another round trip).
 */
export function originRuns(missing: readonly number[], maxRanges: number = MAX_FILL_RANGES): [number, number][] {
  const runs: [number, number][] = [];
  for (const i of missing) {
    const last = runs[runs.length - 1];
    if (last && i === last[1] + 1) last[1] = i;
    else runs.push([i, i]);
  }
  while (runs.length > Math.max(1, maxRanges)) {
    let best = 0;
    for (let k = 1; k < runs.length - 1; k++) if (runs[k + 1]![0] - runs[k]![1] < runs[best + 1]![0] - runs[best]![1]) best = k;
    runs.splice(best, 2, [runs[best]![0], runs[best + 1]![1]]);
  }
  return runs;
}
