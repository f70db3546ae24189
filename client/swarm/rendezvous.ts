/**
 * Rendezvous (highest-random-weight) hashing: every peer that sees the same member set picks
 * the same owners for a key, with no coordination, and a member joining or leaving moves only
 * its own share.
 */
import { hash32, STRIPES } from '../../protocol/stripes.js';

/** Every member (once) by weight for `key`, best first: the first `k` of any subset, in order, are that subset's owners. */
export function ranking(members: readonly string[], key: string): string[] {
  return [...new Set(members)]
    .map((m) => ({ m, w: hash32(`${m}\u0000${key}`) }))
    .sort((a, b) => b.w - a.w || (a.m < b.m ? -1 : 1))
    .map((x) => x.m);
}

/** The `k` members with the highest weight for `key`, best first. */
export function owners(members: readonly string[], key: string, k: number): string[] {
  return ranking(members, key).slice(0, Math.max(0, k));
}

/**
 * The heads of each stripe (protocol/stripes.ts): `perStripe` members per stripe, by rendezvous
 * weight for `key#stripe`, no member heading more than its fair share (ceil(stripes x perStripe
 * / members)), so one uplink never carries several stripes' first copies while another carries
 * none. Every page that sees the same members computes the same heads.
 */
export function stripeHeads(members: readonly string[], key: string, perStripe: number): string[][] {
  const unique = [...new Set(members)];
  const heads: string[][] = Array.from({ length: STRIPES }, () => []);
  if (unique.length === 0 || perStripe < 1) return heads;
  const per = Math.min(perStripe, unique.length);
  const cap = Math.ceil((STRIPES * per) / unique.length);
  const load = new Map<string, number>();
  const rankings = heads.map((_, s) => ranking(unique, `${key}#${s}`));
  // Round by round (each stripe's first head, then its second, ...), so the caps spread evenly.
  for (let round = 0; round < per; round++) {
    for (let s = 0; s < STRIPES; s++) {
      // Under the cap when it can be; when the members under it all head this stripe already
      // (the greedy fill can get there), the least loaded other member, one past its share.
      const m = rankings[s]!.find((id) => (load.get(id) ?? 0) < cap && !heads[s]!.includes(id)) ?? leastLoaded(rankings[s]!, heads[s]!, load);
      if (m === undefined) continue;
      heads[s]!.push(m);
      load.set(m, (load.get(m) ?? 0) + 1);
    }
  }
  return heads;
}

function leastLoaded(ranked: readonly string[], taken: readonly string[], load: ReadonlyMap<string, number>): string | undefined {
  let best: string | undefined;
  for (const id of ranked) if (!taken.includes(id) && (best === undefined || (load.get(id) ?? 0) < (load.get(best) ?? 0))) best = id;
  return best;
}
