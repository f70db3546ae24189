/**
 * Which peers a page dials and which connections it keeps, per swarm. Pure: the page
 * (client/relaycast.ts) and the simulator (sim/viewer.ts) both call it.
 *
 * A small swarm (at most maxPeers + 1 viewers) is a full mesh: every page links to every
 * other, and exactly one side of each pair dials, the smaller id, so there is one
 * connection per pair. In a larger swarm that rule starves pages: a page with a large id
 * may dial almost nobody and waits to be dialed, while pages with large ids are dialed by
 * everyone and fill up (at 1,000 viewers the mean ready links fell to 4.7 of 12 while
 * ~1,800 dials/s were refused). There, a page dials any peer the tracker listed, as far as
 * its own free slots go; the tracker lists only peers with free slots. When two pages dial
 * each other at once, both keep the connection dialed by the smaller id.
 */

export interface DialState {
  readonly self: string;
  /** Viewers in the swarm, as the tracker last said. */
  readonly swarmSize: number;
  readonly maxPeers: number;
  /** Links (open or opening) in this swarm. */
  readonly links: number;
  /** Outgoing dials of this swarm not open yet. */
  readonly dialing: number;
  readonly linked: (id: string) => boolean;
  readonly isDialing: (id: string) => boolean;
  readonly banned: (id: string) => boolean;
}

/** The swarm fits one page's links: everyone links to everyone. */
export function isFullMesh(swarmSize: number, maxPeers: number): boolean {
  return swarmSize <= maxPeers + 1;
}

/** Slots left for new links: what the page reports to the tracker. Dials in progress count as taken. */
export function freeLinks(s: Pick<DialState, 'maxPeers' | 'links' | 'dialing'>): number {
  return Math.max(0, s.maxPeers - s.links - s.dialing);
}

/** The tracker's list, filtered to the peers this page dials now, in list order. */
export function peersToDial(listed: readonly string[], s: DialState): string[] {
  const mesh = isFullMesh(s.swarmSize, s.maxPeers);
  const out: string[] = [];
  // In a full mesh the limit stays what it was (links only); dials there are few and refused ones harmless.
  let room = mesh ? s.maxPeers - s.links : freeLinks(s);
  for (const remote of listed) {
    if (room <= 0) break;
    if (remote === s.self || s.linked(remote) || s.isDialing(remote) || s.banned(remote)) continue;
    // Full mesh: one connection per pair, the smaller id dials, the larger one waits to be dialed.
    if (mesh && remote < s.self) continue;
    out.push(remote);
    room--;
  }
  return out;
}

/** A full page in a large swarm gives up at most one link per this interval for a newcomer's dial. */
export const EVICT_INTERVAL_MS = 5000;
/** Links younger than this are not evicted (they were just set up). */
export const EVICT_MIN_AGE_MS = 10_000;

export interface Incoming {
  readonly self: string;
  readonly remote: string;
  /** This page dialed the new connection. */
  readonly outgoing: boolean;
  readonly swarmSize: number;
  readonly maxPeers: number;
  readonly links: number;
  readonly banned: boolean;
  /** The link this page already has with `remote`, if any: did this page dial it? */
  readonly existingOutgoing: boolean | undefined;
  readonly nowMs: number;
  /** When this page last evicted a link in this swarm (-Infinity: never). */
  readonly lastEvictionMs: number;
}

export type IncomingDecision = 'accept' | 'replace' | 'evict' | 'refuse';

/**
 * `accept`: a new link. `replace`: a new link that takes the place of the existing one to
 * the same peer (closed as 'replaced'). `evict`: a new link, for which one idle link is
 * closed first (`pickEviction`; refuse when there is none). `refuse`: close the new connection.
 *
 * Two connections with one peer: both pages keep the one whose dialer has the smaller id,
 * so they agree without a message. Two from the same dialer: the newer one (the dialer
 * gave up on the old one).
 *
 * A full page in a large swarm accepts an incoming dial by evicting an idle link, at most
 * once per EVICT_INTERVAL_MS. The tracker lists full pages only to newcomers (a few
 * uniformly drawn peers besides those with free slots): without that, a page could link
 * only to pages with free slots, which during a ramp are those that joined just before it,
 * and the mesh becomes a band in join order, many hops across. The evicted peer keeps most
 * of its links and refills the slot from pages with free slots at its next announce.
 */
export function onIncoming(c: Incoming): IncomingDecision {
  if (c.banned) return 'refuse';
  if (c.existingOutgoing !== undefined) {
    const dialer = (outgoing: boolean): string => (outgoing ? c.self : c.remote);
    const oldDialer = dialer(c.existingOutgoing);
    const newDialer = dialer(c.outgoing);
    return newDialer === oldDialer || newDialer < oldDialer ? 'replace' : 'refuse';
  }
  if (c.links < c.maxPeers) return 'accept';
  if (c.outgoing || isFullMesh(c.swarmSize, c.maxPeers)) return 'refuse';
  return c.nowMs - c.lastEvictionMs >= EVICT_INTERVAL_MS ? 'evict' : 'refuse';
}

export interface LinkView {
  readonly peerId: string;
  readonly isReady: boolean;
  readonly activeUploads: number;
  readonly activePulls: number;
  readonly openedAtMs: number;
}

/**
 * A uniformly random idle link (no transfer either way, and not one `keep` names: a parent or
 * child in the stripe trees) older than EVICT_MIN_AGE_MS, or undefined.
 */
export function pickEviction(links: Iterable<LinkView>, nowMs: number, random: () => number = Math.random, keep: (peerId: string) => boolean = () => false): string | undefined {
  const idle: string[] = [];
  for (const l of links) {
    if (l.isReady && l.activeUploads === 0 && l.activePulls === 0 && nowMs - l.openedAtMs >= EVICT_MIN_AGE_MS && !keep(l.peerId)) idle.push(l.peerId);
  }
  return idle.length > 0 ? idle[Math.floor(random() * idle.length)] : undefined;
}

export interface AdmitArgs {
  readonly self: string;
  readonly remote: string;
  readonly outgoing: boolean;
  readonly swarmSize: number;
  readonly maxPeers: number;
  readonly banned: boolean;
  readonly nowMs: number;
  /** The swarm's links by peer id; an evicted one is closed with reason 'evicted'. */
  readonly links: ReadonlyMap<string, LinkView & { readonly outgoing: boolean; close(reason: string): void }>;
  /** Per swarm, kept by the caller. */
  readonly state: { lastEvictionMs: number };
  readonly random?: () => number;
  /** Links never evicted (parents and children in the stripe trees). */
  readonly keep?: (peerId: string) => boolean;
}

/** onIncoming, with the eviction carried out. True: attach the new connection. */
export function admitLink(a: AdmitArgs): boolean {
  const decision = onIncoming({
    self: a.self,
    remote: a.remote,
    outgoing: a.outgoing,
    swarmSize: a.swarmSize,
    maxPeers: a.maxPeers,
    links: a.links.size,
    banned: a.banned,
    existingOutgoing: a.links.get(a.remote)?.outgoing,
    nowMs: a.nowMs,
    lastEvictionMs: a.state.lastEvictionMs,
  });
  if (decision === 'refuse') return false;
  if (decision !== 'evict') return true;
  const victim = pickEviction(a.links.values(), a.nowMs, a.random, a.keep);
  if (victim === undefined) return false;
  a.state.lastEvictionMs = a.nowMs;
  a.links.get(victim)?.close('evicted');
  return true;
}
