/**
 * Where a signaling message goes: to a socket here, into the queue of a reconnecting id, or
 * (in a cluster) to the node holding the id. The pairing rule is applied once, by the node the
 * sender is connected to: an OFFER needs a common tracker swarm, the rest of an exchange needs an
 * offer between the two ids. The receiving side records the offerer as a partner of the
 * receiver, so the answer and candidates that follow pass on whichever node the receiver is.
 */
import { addBounded } from '../protocol/bounded.js';
import { countCandidates, type CandidateCounts } from './ice.js';
import type { RelayMessage } from './cluster/messages.js';
import type { SignalQueues } from './signal-queue.js';
import type { Session, SignalingLimits, SignalingRemote, WireRelay } from './signaling-types.js';
import type { WebSocket } from 'ws';

export interface RelayCounts {
  relayed: number;
  forwarded: number;
  refusedPairing: number;
  refusedQueue: number;
}

export interface RelayContext {
  readonly L: SignalingLimits;
  readonly sessions: Map<string, Session>;
  readonly queues: SignalQueues;
  readonly counts: RelayCounts;
  readonly candidates: CandidateCounts;
  readonly mayPair: (a: string, b: string) => boolean;
  readonly remote: SignalingRemote | undefined;
  readonly nowMs: () => number;
  send(ws: WebSocket | undefined, msg: unknown): boolean;
}

/** The address a node puts on the messages it originates itself (EXPIRE notices). */
const NODE_ADDRESS = '-';

/** Tells `to` (here or on another node) that nobody answers by the id `about`. */
export function expireTo(ctx: RelayContext, to: string, about: string): void {
  const s = ctx.sessions.get(to);
  if (s !== undefined) {
    ctx.send(s.ws, { type: 'EXPIRE', src: about, dst: to });
    return;
  }
  void ctx.remote?.forward({ type: 'EXPIRE', src: about, dst: to, addr: NODE_ADDRESS, hop: 0 });
}

/** Hands `m` to the session `to` held here: its socket, or its queue while it reconnects. */
function handOver(ctx: RelayContext, to: Session, m: WireRelay, srcAddress: string): boolean {
  if (m.type === 'OFFER') addBounded(to.partners, m.src, ctx.L.partnersPerSession);
  const text = JSON.stringify(m);
  if (to.ws !== undefined) return ctx.send(to.ws, text);
  return ctx.queues.add(to, { msg: m, text, bytes: Buffer.byteLength(text), src: m.src, srcAddress, atMs: ctx.nowMs() });
}

/** OFFER/ANSWER/CANDIDATE/LEAVE from `from` (connected here, at `address`) to `dst`, if the pairing rule allows it. */
export function relay(ctx: RelayContext, from: Session, address: string, m: WireRelay): void {
  const to = ctx.sessions.get(m.dst);
  const partners = from.partners.has(m.dst) || to?.partners.has(from.id) === true;
  // A new connection (OFFER) needs a common swarm; the rest of its exchange follows the offer.
  const allowed = partners || (m.type === 'OFFER' && m.dst !== from.id && ctx.mayPair(from.id, m.dst));
  if (!allowed) {
    ctx.counts.refusedPairing++;
    return;
  }
  if (m.type === 'OFFER') addBounded(from.partners, m.dst, ctx.L.partnersPerSession);
  countCandidates(m.type, m.payload, ctx.candidates);
  if (to !== undefined) {
    if (handOver(ctx, to, m, address)) ctx.counts.relayed++;
    else ctx.counts.refusedQueue++;
    return;
  }
  const remote = ctx.remote;
  if (remote === undefined) {
    // Nobody by that id, not even reconnecting: tell the sender now rather than after a timeout.
    if (m.type === 'OFFER') ctx.send(from.ws, { type: 'EXPIRE', src: m.dst, dst: from.id });
    ctx.counts.refusedQueue++;
    return;
  }
  void remote.forward({ ...m, addr: address, hop: 0 }).then((sent) => {
    if (sent) {
      ctx.counts.relayed++;
      ctx.counts.forwarded++;
      return;
    }
    ctx.counts.refusedQueue++;
    if (m.type === 'OFFER') ctx.send(from.ws, { type: 'EXPIRE', src: m.dst, dst: from.id });
  });
}

/** A message another node relayed for `m.dst`; the pairing rule was applied where the sender is connected. */
export function deliver(ctx: RelayContext, m: RelayMessage): void {
  const to = ctx.sessions.get(m.dst);
  const wire: WireRelay = { type: m.type, src: m.src, dst: m.dst, ...(m.payload === undefined ? {} : { payload: m.payload }) };
  if (to !== undefined) {
    if (m.type === 'EXPIRE') ctx.send(to.ws, wire);
    else if (handOver(ctx, to, wire, m.addr)) ctx.counts.relayed++;
    else ctx.counts.refusedQueue++;
    return;
  }
  // The id left this node (it went on elsewhere): hand the message on once, by the store's record.
  const remote = ctx.remote;
  if (m.hop === 0 && remote !== undefined) {
    void remote.forward({ ...m, hop: 1 }).then((sent) => {
      if (!sent && m.type === 'OFFER') expireTo(ctx, m.src, m.dst);
    });
    return;
  }
  if (m.type === 'OFFER') expireTo(ctx, m.src, m.dst);
}

/** Session `id` went on on another node: what was queued for it follows it there; it is forgotten here. */
export function movedAway(ctx: RelayContext, id: string): Session | undefined {
  const s = ctx.sessions.get(id);
  if (s === undefined) return undefined;
  ctx.sessions.delete(id);
  for (const q of ctx.queues.takeAll(s)) void ctx.remote?.forward({ ...q.msg, addr: q.srcAddress, hop: 1 });
  return s;
}
