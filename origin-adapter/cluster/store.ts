/**
 * The state several adapter nodes share, behind one interface: a Redis server in production
 * (redis-store.ts), an in-process hub in tests (memory-store.ts). Only small, expiring state
 * lives here: which nodes are alive, which node holds which peer id (and the hash of the
 * session token that id is bound to), a leader lease, and publish/subscribe channels.
 *
 * Everything read back is untrusted input: records are parsed (`parsePeerRecord`), never cast.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Where a peer id's signaling session lives, and the token it is bound to (hashed: the store never holds a session secret). */
export interface PeerRecord {
  readonly node: string;
  readonly tokenHash: string;
}

/** `new`: the id was free; `resumed`: the same token held it (on `from`, possibly another node); `taken`: another token holds it. */
export type ClaimResult = { readonly kind: 'new' } | { readonly kind: 'resumed'; readonly from: string } | { readonly kind: 'taken' };

export interface ClusterStore {
  /** Connected: commands can succeed. Commands fail (reject) while not. */
  readonly ready: boolean;
  /** Called on every (re)connection: the store may have lost everything (a restarted Redis). */
  onReady(fn: () => void): void;
  /** Called when the connection is lost. */
  onDown(fn: () => void): void;
  /** Marks `node` alive for `ttlMs`; answers the nodes alive now, itself included. */
  heartbeat(node: string, ttlMs: number): Promise<readonly string[]>;
  /** A node leaving on purpose: out of the live set at once, its lease given up. */
  leave(node: string): Promise<void>;
  /** Binds `id` to `rec` for `ttlMs` unless another token holds it. */
  claim(id: string, rec: PeerRecord, ttlMs: number): Promise<ClaimResult>;
  /** Extends the records of `ids` (those still present) to `ttlMs`. */
  refresh(ids: readonly string[], ttlMs: number): Promise<void>;
  /** Deletes `id`'s record if `node` still holds it (a session that moved keeps its new record). */
  release(id: string, node: string): Promise<void>;
  locate(id: string): Promise<PeerRecord | undefined>;
  /** Takes or renews the leader lease for `ttlMs`; false while another node holds it. */
  lead(node: string, ttlMs: number): Promise<boolean>;
  /** Sends `text` to the channel's subscribers; answers how many received it. */
  publish(channel: string, text: string): Promise<number>;
  /** Subscriptions survive reconnections. */
  subscribe(channel: string, onText: (text: string) => void): Promise<void>;
  close(): Promise<void>;
}

export const NODE_ID = /^[0-9a-f]{16}$/;
const TOKEN_HASH = /^[A-Za-z0-9_-]{43}$/;

export function newNodeId(): string {
  return randomBytes(8).toString('hex');
}

/** SHA-256 of a session token, base64url: what the store keeps instead of the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** A record as stored: `<node> <tokenHash>`. */
export function formatPeerRecord(r: PeerRecord): string {
  return `${r.node} ${r.tokenHash}`;
}

export function parsePeerRecord(v: unknown): PeerRecord | undefined {
  if (typeof v !== 'string' || v.length > 80) return undefined;
  const [node, tokenHash, extra] = v.split(' ');
  if (extra !== undefined || node === undefined || tokenHash === undefined) return undefined;
  return NODE_ID.test(node) && TOKEN_HASH.test(tokenHash) ? { node, tokenHash } : undefined;
}

/** Channel names: one bus every node hears, and one inbox per node. */
export const BUS_CHANNEL = 'relaycast:bus';
export const inboxChannel = (node: string): string => `relaycast:inbox:${node}`;

/** redis:// or rediss:// with a host: what `--redis` takes. */
export function isRedisUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
  } catch {
    return false;
  }
}
