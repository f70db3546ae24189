/**
 * Which peers of a large swarm fetch new segments from the origin (the seeders), chosen
 * by the tracker. Pure. The same list goes to every page, so pages agree on each
 * segment's owners (rendezvous hashing over it) without talking to each other.
 *
 * A seeder uploads each segment it fetches to its neighbours, so a seeder on a slow
 * uplink holds a segment back from a whole region of the mesh: chosen by join order
 * alone, a 1 Mbit/s first viewer delayed every segment it owned past the players'
 * deadlines. Pages report the rate they uploaded at (`uploadBytesPerSec` in the
 * announce), credited by the tracker beyond the swarm's median only as far as other pages
 * confirm it (tracker.ts, creditedRates); the fastest long-present uploaders by that rate
 * become seeders, and a seeder credited with less than half the median is replaced. Seeders are otherwise kept, since a
 * change of seeders moves segment owners (pages may disagree for one announce interval).
 */

export interface SeederCandidate {
  readonly id: string;
  /** Fresh and uploading. */
  readonly eligible: boolean;
  /** Smoothed reported upload rate, undefined before the first report. */
  readonly rate: number | undefined;
}

/** A seeder uploading less than this share of the median rate is replaced. */
export const SLOW_SEEDER_SHARE = 0.5;

/**
 * `candidates` in join order. Keeps `previous` seeders that are still eligible and not
 * slow, then adds the fastest eligible candidates (join order among equal or unknown
 * rates) up to `want`.
 */
export function chooseSeeders(candidates: Iterable<SeederCandidate>, previous: readonly string[], want: number): string[] {
  const eligible: SeederCandidate[] = [];
  for (const c of candidates) if (c.eligible) eligible.push(c);
  const rates = eligible.map((c) => c.rate).filter((r): r is number => r !== undefined);
  const median = rates.length > 0 ? rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)] : undefined;
  const fastEnough = (c: SeederCandidate): boolean => c.rate === undefined || median === undefined || c.rate >= SLOW_SEEDER_SHARE * median;
  const byId = new Map(eligible.map((c) => [c.id, c]));
  const out: string[] = [];
  for (const id of previous) {
    const c = byId.get(id);
    if (out.length < want && c !== undefined && fastEnough(c)) out.push(id);
  }
  if (out.length >= want) return out;
  const chosen = new Set(out);
  // Stable sort: among equal (or unknown, counted as 0) rates, join order, i.e. longest present first.
  const ranked = eligible.filter((c) => !chosen.has(c.id) && fastEnough(c)).sort((a, b) => (b.rate ?? 0) - (a.rate ?? 0));
  for (const c of ranked) {
    if (out.length >= want) break;
    out.push(c.id);
  }
  return out;
}
