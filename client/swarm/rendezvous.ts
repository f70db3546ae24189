/**
 * Rendezvous (highest-random-weight) hashing: every peer that sees the same
 * member set picks the same owners for a segment, with no coordination, and a
 * member joining or leaving moves only its own share.
 */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32) so similar ids spread well.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Every member (once) by weight for `key`, best first: the first `k` of any subset, in order, are that subset's owners. */
export function ranking(members: readonly string[], key: string): string[] {
  return [...new Set(members)]
    .map((m) => ({ m, w: fnv1a(`${m}\u0000${key}`) }))
    .sort((a, b) => b.w - a.w || (a.m < b.m ? -1 : 1))
    .map((x) => x.m);
}

/** The `k` members with the highest weight for `key`, best first. */
export function owners(members: readonly string[], key: string, k: number): string[] {
  return ranking(members, key).slice(0, Math.max(0, k));
}
