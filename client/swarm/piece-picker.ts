import type { PeerLink } from '../transport/peer-link.js';
import type { Download } from './download.js';

/**
 * Which piece to ask a peer for next. Pure functions of what the peers announced and what is in
 * flight, so the policy is readable in one place:
 *
 * - Earliest deadline first: the segments in `order` (a player's segment, then the oldest).
 * - Within a segment, the rarest piece among this page's peers, so pieces that few hold get
 *   copied first and every peer soon has something others lack (BitTorrent's rarest first);
 *   random among equals, so requesters do not all pick the same piece.
 * - A piece is asked of one peer at a time. While a player waits, a piece asked of another
 *   peer that will come too late for the player (its expected arrival is past the deadline,
 *   or overdue) is asked again of this one if this one would deliver it sooner (endgame); the
 *   first answer wins and the other request is cancelled. A duplicate costs a holder's upload,
 *   so only a piece that would otherwise be filled by the origin is worth one.
 * - Each link's pipeline holds what its measured rate delivers in a round trip plus a little,
 *   so a fast peer gets more requests than a slow one: in proportion to what each delivers.
 */

/** Pipeline depth in time: requests worth this long at a peer's rate, beyond its round trip. */
const PIPELINE_MS = 300;
/** Pipeline depth before a peer's rate is known, and its bounds. */
const FIRST_PENDING = 2;
const MAX_PENDING = 8;
/** Piece timeouts: this multiple of the expected time, within bounds (ms). */
const TIMEOUT_FACTOR = 3;
const MIN_TIMEOUT_MS = 1500;
const MAX_TIMEOUT_MS = 8000;
const UNKNOWN_RATE_TIMEOUT_MS = 4000;
/** Expected time of a request on a link whose rate is not known yet. */
const UNKNOWN_RATE_EXPECTED_MS = 1000;

/** How many piece requests to keep pending on `link`. */
export function targetPending(link: PeerLink, pieceBytes: number): number {
  if (link.failing) return 1;
  const rate = link.throughput;
  if (rate === undefined) return FIRST_PENDING;
  const ms = (link.rttMs ?? 100) + PIPELINE_MS;
  return Math.max(1, Math.min(MAX_PENDING, Math.ceil((rate * ms) / 1000 / pieceBytes)));
}

/** When one more piece asked of `link` now should arrive, in ms from now: its queue of requests at its rate, plus a round trip. */
export function expectedMs(link: PeerLink, pieceBytes: number): number {
  const rate = link.throughput;
  if (rate === undefined || rate <= 0) return UNKNOWN_RATE_EXPECTED_MS;
  return ((link.activePulls + 1) * pieceBytes * 1000) / rate + (link.rttMs ?? 100);
}

/** How long one more piece request on `link` may take before it counts as failed. */
export function requestTimeoutMs(link: PeerLink, pieceBytes: number): number {
  const rate = link.throughput;
  if (rate === undefined || rate <= 0) return UNKNOWN_RATE_TIMEOUT_MS;
  const expected = ((link.activePulls + 1) * pieceBytes * 1000) / rate + (link.rttMs ?? 100);
  return Math.max(MIN_TIMEOUT_MS, Math.min(MAX_TIMEOUT_MS, TIMEOUT_FACTOR * expected));
}

/**
 * What any link may be asked for in one download, worked out once per round of requests:
 * `open` the pieces missing, not asked and not left to a parent's push; `late` the pieces asked
 * of one peer that will come after the waiting player's deadline (latePieces); `holders` how
 * many peers hold each piece.
 */
export interface Candidates {
  readonly open: readonly number[];
  readonly late: readonly (readonly [piece: number, expectedAtMs: number])[];
  /** Peers holding each piece, filled in as the round needs them (they do not change within it). */
  readonly holders: Map<number, number>;
}

/** The pieces of `d` asked of exactly one peer and expected after its player's deadline (overdue ones at Infinity), in the order asked. */
export function latePieces(d: Download, nowMs: number): [number, number][] {
  const deadline = d.urgentUntil;
  const late: [number, number][] = [];
  if (deadline === undefined) return late;
  for (const [i, byLink] of d.asked) {
    if (byLink.size !== 1 || d.copy.arrived(i)) continue;
    const at = d.expectedAtMs.get(i);
    if (at === undefined) continue;
    // Overdue: when it will come is anyone's guess, so as late as can be.
    const expected = at < nowMs ? Infinity : at;
    if (expected > deadline) late.push([i, expected]);
  }
  return late;
}

export interface Pick {
  readonly d: Download;
  readonly piece: number;
}

/** The next piece to ask `link` for, over the downloads in priority order, or undefined. */
export function pickPiece(
  link: PeerLink,
  order: readonly Download[],
  links: Iterable<PeerLink>,
  nowMs: number,
  pieceBytes: number,
  random: () => number = Math.random,
  /** Pieces not to ask of anyone now (a parent pushes them). */
  skip?: (d: Download, piece: number) => boolean,
  /** Per download, the only pieces worth looking at (Candidates); all when absent. */
  candidates?: ReadonlyMap<Download, Candidates>,
): Pick | undefined {
  const mine = nowMs + expectedMs(link, pieceBytes);
  for (const d of order) {
    const id = d.copy.id;
    if (!link.remoteHas.has(id) || link.remoteHas.get(id)!.bytes !== d.copy.total) continue;
    // A piece this peer would deliver after the waiting player's deadline is filled by the origin anyway: not asked.
    if (d.urgentUntil !== undefined && mine > d.urgentUntil) continue;
    const only = candidates?.get(d);
    const fresh = rarest(link, d, links, random, skip, only);
    if (fresh !== undefined) return { d, piece: fresh };
    const dup = endgame(link, d, nowMs, pieceBytes, only?.late);
    if (dup !== undefined) return { d, piece: dup };
  }
  return undefined;
}

/** The rarest piece of `d` that `link` holds and nobody is asked for. */
function rarest(
  link: PeerLink,
  d: Download,
  links: Iterable<PeerLink>,
  random: () => number,
  skip?: (d: Download, piece: number) => boolean,
  only?: Candidates,
): number | undefined {
  const id = d.copy.id;
  let best: number | undefined;
  let bestCount = Infinity;
  let ties = 0;
  let holders: PeerLink[] | undefined;
  const n = only ? only.open.length : d.copy.pieces;
  for (let k = 0; k < n; k++) {
    const i = only ? only.open[k]! : k;
    if (d.copy.arrived(i) || d.asked.has(i) || !link.hasPiece(id, i) || skip?.(d, i)) continue;
    let count = only?.holders.get(i);
    if (count === undefined) {
      holders ??= [...links].filter((l) => l.isReady && l.remoteHas.has(id));
      count = 0;
      for (const l of holders) if (l.hasPiece(id, i)) count++;
      only?.holders.set(i, count);
    }
    if (count < bestCount) {
      [best, bestCount, ties] = [i, count, 1];
    } else if (count === bestCount && random() * ++ties < 1) {
      best = i;
    }
  }
  return best;
}

/**
 * A piece of `d` asked of one other peer that will come too late for the waiting player (expected
 * past the deadline, or overdue), which `link` holds and would deliver sooner: the latest first.
 */
function endgame(link: PeerLink, d: Download, nowMs: number, pieceBytes: number, late?: Candidates['late']): number | undefined {
  const deadline = d.urgentUntil;
  if (deadline === undefined) return undefined;
  const mine = nowMs + expectedMs(link, pieceBytes);
  if (mine > deadline) return undefined;
  let best: number | undefined;
  let latest = -Infinity;
  for (const [i, expected] of late ?? latePieces(d, nowMs)) {
    // Asked of a second peer earlier in this round, or of this link itself.
    const byLink = d.asked.get(i);
    if (byLink?.size !== 1 || byLink.has(link) || !link.hasPiece(d.copy.id, i)) continue;
    if (expected <= mine || (best !== undefined && expected <= latest)) continue;
    [best, latest] = [i, expected];
  }
  return best;
}
