/**
 * Stripes: a live segment's pieces (pieces.ts) split into STRIPES contiguous runs, each carried
 * down a tree of its own (SplitStream's striping, New Coolstreaming's sub-streams). A page
 * subscribes to each stripe from one parent, which pushes every piece of that stripe as soon as
 * it has it, so every piece crosses each uplink once, unasked and without duplicates.
 *
 *   stripe of piece i = floor(i * STRIPES / pieces)
 *
 * A page relays onward (is "interior") only in its home stripe (a hash of its peer id) and the
 * stripes it heads (fetches from the origin); everywhere else it is a leaf. Each uploader's
 * capacity thus goes to one tree with a large fan-out, and the trees stay a few hops deep.
 */

/** Stripes per segment. Part of the protocol: every page maps pieces to stripes alike. */
export const STRIPES = 8;

/** Hops below a stripe's heads a page may be (a head is at depth 0); deeper is "no feed". */
export const MAX_FEED_DEPTH = 8;

/** 32-bit FNV-1a with a murmur3 finalizer: similar ids spread well. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The stripe of piece `piece` in a segment of `pieces` pieces. */
export function stripeOf(piece: number, pieces: number): number {
  return Math.min(STRIPES - 1, Math.floor((piece * STRIPES) / Math.max(1, pieces)));
}

/** The pieces of stripe `stripe` (first..last, inclusive), or undefined when it has none (a segment of fewer pieces than stripes). */
export function stripePieces(stripe: number, pieces: number): { first: number; last: number } | undefined {
  const first = Math.ceil((stripe * pieces) / STRIPES);
  const last = Math.ceil(((stripe + 1) * pieces) / STRIPES) - 1;
  return last >= first ? { first, last } : undefined;
}

/** The stripe in which a page relays onward besides those it heads: known to every page from the id alone. */
export function homeStripe(peerId: string): number {
  return hash32(`home\u0000${peerId}`) % STRIPES;
}

/** A bitmask of stripes: bit s set for stripe s. */
export const ALL_STRIPES = (1 << STRIPES) - 1;
