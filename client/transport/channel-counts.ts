import type { MessageCount } from '../../protocol/stats.js';

/**
 * Counts the messages a page's data channels carry, by kind, without parsing them: every
 * message costs the viewer's CPU in WebRTC, the network service and the page, so which kinds
 * are sent how often tells where relaying spends it (`npm run bench:cpu`).
 */
export interface ChannelCounts {
  readonly sent: Record<string, MessageCount>;
  readonly received: Record<string, MessageCount>;
}

/** Kinds a text message may be counted under; anything else is 'other' (the table stays bounded whatever a peer sends). */
const KINDS = new Set(['hello', 'have', 'fresh', 'request', 'hashes', 'push', 'cancel', 'miss', 'ping', 'pong']);
const TYPE_PREFIX = '{"type":"';
/** An empty `have`: the keepalive (client/transport/link-health.ts). */
const KEEPALIVE = '{"type":"have","segments":[]}';

/**
 * The kind of one data-channel message. Peer messages are JSON with `type` first
 * (protocol/peer.ts encodes them so); reading it from the prefix costs no parse.
 */
export function messageKind(data: unknown): string {
  if (typeof data !== 'string') return data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? 'frame' : 'other';
  if (data === KEEPALIVE) return 'keepalive';
  if (!data.startsWith(TYPE_PREFIX)) return 'other';
  const end = data.indexOf('"', TYPE_PREFIX.length);
  const kind = end < 0 ? '' : data.slice(TYPE_PREFIX.length, end);
  return KINDS.has(kind) ? kind : 'other';
}

function sizeOf(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

function add(table: Record<string, MessageCount>, kind: string, bytes: number): void {
  const c = table[kind];
  if (c) {
    c.messages++;
    c.bytes += bytes;
  } else {
    table[kind] = { messages: 1, bytes };
  }
}

/** One message sent on a swarm channel (`kind` given: the connection's own channel's `mux`). */
export function countSent(counts: ChannelCounts | undefined, data: unknown, kind?: string): void {
  if (counts) add(counts.sent, kind ?? messageKind(data), sizeOf(data));
}

export function countReceived(counts: ChannelCounts | undefined, data: unknown, kind?: string): void {
  if (counts) add(counts.received, kind ?? messageKind(data), sizeOf(data));
}
