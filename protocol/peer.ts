import { isRecord, isSafeId, readArray, readInt, readString } from './guards.js';
import { LIMITS } from './limits.js';
import { MAX_BITFIELD_CHARS, MAX_HASH_LIST_CHARS, MAX_PIECES } from './pieces.js';
import { err, ok, type Result } from './result.js';
import { ALL_STRIPES, MAX_FEED_DEPTH, STRIPES } from './stripes.js';

/**
 * Page <-> peer control messages, sent as JSON text on a PeerJS `raw` data
 * channel. Segment bytes travel separately as binary frames (framing.ts), one
 * piece per frame (pieces.ts).
 */
export const PEER_PROTOCOL_VERSION = 5;

export interface SegmentInfo {
  readonly id: string;
  /** Media sequence number, used to keep only the live window. */
  readonly seq: number;
  readonly bytes: number;
  /** Hops from the origin of the announcer's copy: 0 = it fetched it from the origin itself. */
  readonly hop?: number;
  /**
   * The announcer holds only some pieces, checked against the published hashes: a bitfield
   * (protocol/pieces.ts Bitfield, base64url). Absent: it holds the whole segment.
   */
  readonly pieces?: string;
}

export interface FreshSegment {
  readonly id: string;
  readonly seq: number;
}

/** Copies further than this from the origin are not announced (and not relayed further). */
export const MAX_HOP = 32;

export type PeerMessage =
  /** First message on a connection: which swarm this connection serves. */
  | { readonly type: 'hello'; readonly v: number; readonly swarm: string }
  /** "I now hold these segments." Sent on connect (full window) and for each new segment. */
  | { readonly type: 'have'; readonly segments: readonly SegmentInfo[] }
  /**
   * "My playlist lists these segments and no peer had told me": sent once, by a page that saw
   * them first, so the segment's origin fetcher need not wait for its own playlist refresh.
   */
  | { readonly type: 'fresh'; readonly segments: readonly FreshSegment[] }
  /**
   * Ask for one piece of a segment; answered by one frame with the same reqId, or `miss`.
   * `hashes`: send the segment's hash list first (a `hashes` message), the asker has none yet.
   */
  | { readonly type: 'request'; readonly reqId: number; readonly id: string; readonly piece: number; readonly hashes?: true }
  /** A segment's hash list (protocol/pieces.ts): base64url of its pieces' SHA-256 digests, in order. */
  | { readonly type: 'hashes'; readonly id: string; readonly list: string }
  /**
   * "Here is a piece you lack": the next binary frame with this `reqId` carries piece `piece` of
   * `id`, unasked. Sent by a page whose uplink would otherwise be idle, to a peer whose
   * announcements show it lacks the piece. Push ids have the top bit set (≥ 2³¹), request ids
   * do not, so the two never collide on one link.
   */
  | { readonly type: 'push'; readonly reqId: number; readonly id: string; readonly seq: number; readonly bytes: number; readonly piece: number }
  /**
   * Where this page stands in each stripe's tree (protocol/stripes.ts): `depth[s]` is its hops
   * below the stripe's heads where it can feed others (it relays that stripe and has a feed of it),
   * else -1; `need` the stripes it has no feed of (bit s); `up`: it uploads at all.
   */
  | { readonly type: 'tree'; readonly depth: readonly number[]; readonly need: number; readonly up: boolean }
  /** "Feed me stripe `s`" (`on`), or "stop" (`on: false`); `interior`: the asker relays that stripe onward. */
  | { readonly type: 'sub'; readonly s: number; readonly on: boolean; readonly interior?: true }
  /** The answer to `sub`: this page feeds stripe `s` from now on (`ok`), or does not (refused, or no longer). */
  | { readonly type: 'feed'; readonly s: number; readonly ok: boolean }
  | { readonly type: 'cancel'; readonly reqId: number }
  | { readonly type: 'miss'; readonly reqId: number; readonly reason: MissReason }
  /** Round-trip measurement: the receiver echoes `n` in a pong at once. */
  | { readonly type: 'ping'; readonly n: number }
  | { readonly type: 'pong'; readonly n: number };

export type MissReason = 'not-found' | 'busy' | 'no-upload';
const MISS_REASONS: readonly MissReason[] = ['not-found', 'busy', 'no-upload'];

const MAX_REQ_ID = 0xffff_ffff;
/** Ids of pushed pieces start here; a page's own requests stay below. */
export const PUSH_ID_BASE = 0x8000_0000;

function parseSegmentInfo(v: unknown): SegmentInfo | undefined {
  if (!isRecord(v)) return undefined;
  const id = v['id'];
  if (!isSafeId(id, LIMITS.segmentIdChars)) return undefined;
  const seq = readInt(v, 'seq', 0, Number.MAX_SAFE_INTEGER);
  const bytes = readInt(v, 'bytes', 1, LIMITS.segmentBytes);
  if (seq === undefined || bytes === undefined) return undefined;
  const pieces = v['pieces'];
  if (pieces !== undefined && (typeof pieces !== 'string' || pieces.length === 0 || pieces.length > MAX_BITFIELD_CHARS)) return undefined;
  const map = pieces === undefined ? {} : { pieces };
  if (v['hop'] === undefined) return { id, seq, bytes, ...map };
  const hop = readInt(v, 'hop', 0, MAX_HOP);
  return hop === undefined ? undefined : { id, seq, bytes, hop, ...map };
}

function parseFresh(v: unknown): FreshSegment | undefined {
  if (!isRecord(v)) return undefined;
  const id = v['id'];
  const seq = readInt(v, 'seq', 0, Number.MAX_SAFE_INTEGER);
  return isSafeId(id, LIMITS.segmentIdChars) && seq !== undefined ? { id, seq } : undefined;
}

/** Parses one text message from a peer. Takes the raw string so size is checked before JSON.parse. */
export function parsePeerMessage(text: string): Result<PeerMessage> {
  if (text.length > LIMITS.controlMessageChars) return err('message too large');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return err('not JSON');
  }
  if (!isRecord(v)) return err('not an object');
  switch (v['type']) {
    case 'hello': {
      const ver = readInt(v, 'v', 0, 1000);
      const swarm = v['swarm'];
      if (ver === undefined) return err('bad version');
      if (!isSafeId(swarm, LIMITS.swarmIdChars)) return err('bad swarm');
      return ok({ type: 'hello', v: ver, swarm });
    }
    case 'have': {
      const segments = readArray(v, 'segments', LIMITS.haveItems, parseSegmentInfo);
      return segments === undefined ? err('bad have') : ok({ type: 'have', segments });
    }
    case 'fresh': {
      const segments = readArray(v, 'segments', LIMITS.haveItems, parseFresh);
      return segments === undefined ? err('bad fresh') : ok({ type: 'fresh', segments });
    }
    case 'request': {
      const reqId = readInt(v, 'reqId', 0, PUSH_ID_BASE - 1);
      const id = v['id'];
      const piece = readInt(v, 'piece', 0, MAX_PIECES - 1);
      const hashes = v['hashes'];
      if (reqId === undefined || piece === undefined || !isSafeId(id, LIMITS.segmentIdChars) || (hashes !== undefined && hashes !== true)) return err('bad request');
      return ok({ type: 'request', reqId, id, piece, ...(hashes === true ? { hashes } : {}) });
    }
    case 'push': {
      const reqId = readInt(v, 'reqId', PUSH_ID_BASE, MAX_REQ_ID);
      const id = v['id'];
      const piece = readInt(v, 'piece', 0, MAX_PIECES - 1);
      const seq = readInt(v, 'seq', 0, Number.MAX_SAFE_INTEGER);
      const bytes = readInt(v, 'bytes', 1, LIMITS.segmentBytes);
      if (reqId === undefined || piece === undefined || seq === undefined || bytes === undefined || !isSafeId(id, LIMITS.segmentIdChars)) return err('bad push');
      return ok({ type: 'push', reqId, id, seq, bytes, piece });
    }
    case 'tree': {
      const depth = v['depth'];
      const need = readInt(v, 'need', 0, ALL_STRIPES);
      const up = v['up'];
      if (!Array.isArray(depth) || depth.length !== STRIPES || need === undefined || typeof up !== 'boolean') return err('bad tree');
      const out: number[] = [];
      for (const d of depth) {
        if (!Number.isInteger(d) || d < -1 || d > MAX_FEED_DEPTH) return err('bad tree');
        out.push(d);
      }
      return ok({ type: 'tree', depth: out, need, up });
    }
    case 'sub': {
      const st = readInt(v, 's', 0, STRIPES - 1);
      const on = v['on'];
      const interior = v['interior'];
      if (st === undefined || typeof on !== 'boolean' || (interior !== undefined && interior !== true)) return err('bad sub');
      return ok({ type: 'sub', s: st, on, ...(interior === true ? { interior } : {}) });
    }
    case 'feed': {
      const st = readInt(v, 's', 0, STRIPES - 1);
      const okay = v['ok'];
      if (st === undefined || typeof okay !== 'boolean') return err('bad feed');
      return ok({ type: 'feed', s: st, ok: okay });
    }
    case 'hashes': {
      const id = v['id'];
      const list = readString(v, 'list', MAX_HASH_LIST_CHARS);
      if (!isSafeId(id, LIMITS.segmentIdChars) || list === undefined) return err('bad hashes');
      return ok({ type: 'hashes', id, list });
    }
    case 'cancel': {
      const reqId = readInt(v, 'reqId', 0, MAX_REQ_ID);
      return reqId === undefined ? err('bad cancel') : ok({ type: 'cancel', reqId });
    }
    case 'miss': {
      const reqId = readInt(v, 'reqId', 0, MAX_REQ_ID);
      const reason = readString(v, 'reason', 32);
      const known = MISS_REASONS.find((r) => r === reason);
      if (reqId === undefined || known === undefined) return err('bad miss');
      return ok({ type: 'miss', reqId, reason: known });
    }
    case 'ping':
    case 'pong': {
      const n = readInt(v, 'n', 0, MAX_REQ_ID);
      if (n === undefined) return err(`bad ${v['type']}`);
      return ok(v['type'] === 'ping' ? { type: 'ping', n } : { type: 'pong', n });
    }
    default:
      return err('unknown type');
  }
}

export function encodePeerMessage(m: PeerMessage): string {
  return JSON.stringify(m);
}
