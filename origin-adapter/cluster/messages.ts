/**
 * What adapter nodes tell each other through the store's channels, and one parser per channel.
 * A node's inbox carries signaling for the peers it holds; the bus carries what every node keeps
 * a copy of (tracker announces, the leader's seeder lists, rate-limit charges, the kill switch).
 * Whatever comes through Redis is untrusted: parsed strictly, capped in size, never cast.
 */
import { isRecord, isSafeId, readArray, readInt, readString } from '../../protocol/guards.js';
import { LIMITS } from '../../protocol/limits.js';
import { err, ok, type Result } from '../../protocol/result.js';
import { P2P_MODES, type P2PMode } from '../../protocol/control.js';
import { parseTrackerAnnounce, type TrackerAnnounce } from '../../protocol/tracker.js';
import { NODE_ID } from './store.js';

/** Signaling message types one node hands another (EXPIRE: "nobody by that id", back to a sender). */
export const NODE_RELAYED = ['OFFER', 'ANSWER', 'CANDIDATE', 'LEAVE', 'EXPIRE'] as const;
export type NodeRelayedType = (typeof NODE_RELAYED)[number];

/** One signaling message for a peer held by the receiving node. */
export interface RelayMessage {
  readonly t: 'relay';
  readonly type: NodeRelayedType;
  readonly src: string;
  readonly dst: string;
  readonly payload?: unknown;
  /** The sender's client address: queue caps per sending address hold across nodes. */
  readonly addr: string;
  /** Times forwarded by a node that no longer held `dst` (at most once). */
  readonly hop: number;
  /** The node `src` is connected to, when the message comes straight from there: the answer needs no lookup. */
  readonly at?: string;
}

/** Session `id` now lives on node `to`: the old node forgets it and forwards what it queued for it. */
export interface MovedMessage {
  readonly t: 'moved';
  readonly id: string;
  readonly to: string;
}

export type InboxMessage = RelayMessage | MovedMessage;

export interface SharedAnnounce {
  readonly a: TrackerAnnounce;
  readonly addr: string | undefined;
}

export type BusMessage =
  | { readonly t: 'announces'; readonly from: string; readonly items: readonly SharedAnnounce[] }
  | { readonly t: 'seeders'; readonly from: string; readonly items: readonly { readonly swarm: string; readonly seeders: readonly string[] }[] }
  | { readonly t: 'rates'; readonly from: string; readonly name: string; readonly items: readonly (readonly [string, number])[] }
  | { readonly t: 'p2p'; readonly from: string; readonly mode: P2PMode };

/** Largest message a node reads from a channel (a batch of announces, a page of seeder lists). */
export const MAX_CHANNEL_CHARS = 1024 * 1024;
/** Items in one bus message. */
export const MAX_BUS_ITEMS = 2000;
const ADDRESS_CHARS = 64;

function parseJson(text: string): unknown {
  if (text.length > MAX_CHANNEL_CHARS) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isRelayedType = (v: unknown): v is NodeRelayedType => NODE_RELAYED.some((t) => t === v);
const peerId = (v: unknown): string | undefined => (isSafeId(v, LIMITS.peerIdChars) ? v : undefined);

export function parseInboxMessage(text: string): Result<InboxMessage> {
  const v = parseJson(text);
  if (!isRecord(v)) return err('not an object');
  if (v['t'] === 'moved') {
    const id = peerId(v['id']);
    const to = v['to'];
    return id !== undefined && typeof to === 'string' && NODE_ID.test(to) ? ok({ t: 'moved', id, to }) : err('bad moved');
  }
  if (v['t'] !== 'relay') return err('unknown message');
  const type = v['type'];
  const src = peerId(v['src']);
  const dst = peerId(v['dst']);
  const addr = readString(v, 'addr', ADDRESS_CHARS);
  const hop = readInt(v, 'hop', 0, 1);
  const at = v['at'];
  if (!isRelayedType(type) || src === undefined || dst === undefined || addr === undefined || hop === undefined) return err('bad relay');
  if (at !== undefined && (typeof at !== 'string' || !NODE_ID.test(at))) return err('bad relay');
  return ok({ t: 'relay', type, src, dst, addr, hop, ...(at === undefined ? {} : { at }), ...(v['payload'] === undefined ? {} : { payload: v['payload'] }) });
}

function parseShared(v: unknown): SharedAnnounce | undefined {
  if (!isRecord(v)) return undefined;
  const a = parseTrackerAnnounce(v['a']);
  const addr = v['addr'];
  if (!a.ok || (addr !== undefined && !isSafeId(addr, ADDRESS_CHARS))) return undefined;
  // A token never travels between nodes; one that did is not kept.
  const { token: _t, ...announce } = a.value;
  return { a: announce, addr };
}

function parseSeeders(v: unknown): { swarm: string; seeders: string[] } | undefined {
  if (!isRecord(v) || !isSafeId(v['swarm'], LIMITS.swarmIdChars)) return undefined;
  const seeders = readArray(v, 'seeders', LIMITS.trackerPeers, peerId);
  return seeders === undefined ? undefined : { swarm: v['swarm'], seeders };
}

function parseCharge(v: unknown): readonly [string, number] | undefined {
  if (!Array.isArray(v) || v.length !== 2) return undefined;
  const [key, n]: unknown[] = v;
  return isSafeId(key, ADDRESS_CHARS) && typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 1e6 ? [key, n] : undefined;
}

export function parseBusMessage(text: string): Result<BusMessage> {
  const v = parseJson(text);
  if (!isRecord(v)) return err('not an object');
  const from = v['from'];
  if (typeof from !== 'string' || !NODE_ID.test(from)) return err('bad from');
  switch (v['t']) {
    case 'announces': {
      const items = readArray(v, 'items', MAX_BUS_ITEMS, parseShared);
      return items === undefined ? err('bad announces') : ok({ t: 'announces', from, items });
    }
    case 'seeders': {
      const items = readArray(v, 'items', MAX_BUS_ITEMS, parseSeeders);
      return items === undefined ? err('bad seeders') : ok({ t: 'seeders', from, items });
    }
    case 'rates': {
      const name = readString(v, 'name', 32);
      const items = readArray(v, 'items', MAX_BUS_ITEMS, parseCharge);
      return name === undefined || items === undefined ? err('bad rates') : ok({ t: 'rates', from, name, items });
    }
    case 'p2p': {
      const mode = P2P_MODES.find((m) => m === v['mode']);
      return mode === undefined ? err('bad p2p') : ok({ t: 'p2p', from, mode });
    }
    default:
      return err('unknown message');
  }
}
