/**
 * Signaling across nodes: ids are claimed in the shared store (unique across the cluster, bound
 * to their token), and a message for an id held elsewhere is published to that node's inbox.
 * Where an id lives is cached (learnt from lookups and from the messages other nodes send), and
 * forgotten when its node leaves the live set, so a conversation of one OFFER and a dozen
 * CANDIDATEs costs at most one lookup. While the store
 * is down, claims succeed on this node's word and nothing is routed to other nodes.
 */
import { putBounded } from '../../protocol/bounded.js';
import type { Signaling, SignalingRemote } from '../signaling-types.js';
import { sameToken } from '../signaling-types.js';
import type { ClusterNode } from './node.js';
import { hashToken, type PeerRecord } from './store.js';

/**
 * How long a known location is trusted. A stale one costs little: a node that no longer holds
 * the id forwards the message by the store's record, and a dead node's entries are dropped
 * when it leaves the live set. A peer offers to a given peer far less often than every few
 * seconds, so a short life would cost a lookup for most conversations.
 */
const LOCATION_CACHE_MS = 60_000;
const LOCATIONS_CACHED = 50_000;

export interface SignalLink extends SignalingRemote {
  /** Wires the node's inbox and rejoins to the signaling server that uses this link. */
  attach(signaling: Signaling): void;
}

export function createSignalLink(node: ClusterNode, now: () => number = Date.now): SignalLink {
  const store = node.store;
  const cache = new Map<string, { readonly node: string; readonly atMs: number }>();
  /** Lookups under way, so messages for one id keep their order (an OFFER before its CANDIDATEs). */
  const lookups = new Map<string, Promise<PeerRecord | undefined>>();

  let signalingHere: Signaling | undefined;
  let reclaimTimer: NodeJS.Timeout | undefined;
  /** A claim the store did not answer: every id held here is claimed again shortly. */
  const reclaimSoon = (): void => {
    if (reclaimTimer !== undefined) return;
    reclaimTimer = setTimeout(() => {
      reclaimTimer = undefined;
      void signalingHere?.reclaim();
    }, 1000);
    reclaimTimer.unref();
  };

  node.onNodeGone((gone) => {
    for (const [id, e] of cache) if (e.node === gone) cache.delete(id);
  });

  const lookup = (id: string): Promise<PeerRecord | undefined> => {
    let p = lookups.get(id);
    if (p === undefined) {
      p = store.locate(id).catch(() => undefined);
      lookups.set(id, p);
      void p.then((rec) => {
        lookups.delete(id);
        // A record naming this node for an id it does not hold is stale: not worth keeping.
        if (rec !== undefined && rec.node !== node.id) putBounded(cache, id, { node: rec.node, atMs: now() }, LOCATIONS_CACHED);
      });
    }
    return p;
  };

  /** The live node holding `id` other than this one: from the cache at once, or after a lookup. */
  const locate = (id: string): string | undefined | Promise<string | undefined> => {
    const hit = cache.get(id);
    if (hit !== undefined && now() - hit.atMs < LOCATION_CACHE_MS && node.alive(hit.node) && !lookups.has(id)) return hit.node;
    return lookup(id).then((rec) => (rec !== undefined && rec.node !== node.id && node.alive(rec.node) ? rec.node : undefined));
  };

  const sendTo = async (where: string | undefined, m: Parameters<SignalingRemote['forward']>[0]): Promise<boolean> => {
    if (where === undefined) return false;
    // Straight from the sender's node: the receiving node learns where to send the answer.
    const at = m.hop === 0 && m.type !== 'EXPIRE' ? { at: node.id } : {};
    const sent = await node.send(where, { t: 'relay', ...m, ...at });
    if (!sent) cache.delete(m.dst);
    return sent;
  };

  return {
    async claim(id, token) {
      if (!node.up()) return true;
      try {
        const r = await store.claim(id, { node: node.id, tokenHash: hashToken(token) }, node.timing.peerTtlMs);
        if (r.kind === 'taken') return false;
        cache.delete(id);
        // The page reconnected here while its old node still holds its session: that node lets go.
        if (r.kind === 'resumed' && r.from !== node.id && node.alive(r.from)) void node.send(r.from, { t: 'moved', id, to: node.id });
        return true;
      } catch {
        // The store did not answer: this node's view decides, and the claim is made again soon.
        reclaimSoon();
        return true;
      }
    },
    release(id) {
      if (node.up()) store.release(id, node.id).catch(() => undefined);
    },
    forward(m) {
      if (!node.up()) return Promise.resolve(false);
      const where = locate(m.dst);
      // Published in the order messages arrive: at once when the location is known.
      return typeof where === 'string' || where === undefined ? sendTo(where, m) : where.then((w) => sendTo(w, m));
    },
    async sessionMatches(id, token) {
      if (!node.up()) return false;
      const rec = await store.locate(id).catch(() => undefined);
      return rec !== undefined && sameToken(rec.tokenHash, hashToken(token));
    },
    attach(signaling) {
      signalingHere = signaling;
      node.onInbox((m) => {
        if (m.t === 'moved') return signaling.moved(m.id);
        if (m.at !== undefined && m.at !== node.id && node.alive(m.at)) putBounded(cache, m.src, { node: m.at, atMs: now() }, LOCATIONS_CACHED);
        signaling.deliver(m);
      });
      node.onRejoin(() => void signaling.reclaim());
    },
  };
}
