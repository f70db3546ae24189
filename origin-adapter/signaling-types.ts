/**
 * The signaling server's contracts (limits, stats, config) and the per-session and per-socket
 * state it keeps (origin-adapter/signaling.ts).
 */
import type { CandidateCounts } from './ice.js';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { TokenBucket } from '../protocol/token-bucket.js';
import type { LogFn } from './config.js';
import type { NodeRelayedType, RelayMessage } from './cluster/messages.js';
import type { RateLimiter } from './rate-limit.js';

export const SIGNAL_PATH = '/relaycast/signal';
export const PEERJS_KEY = 'peerjs';
export const WS_PATH = `${SIGNAL_PATH}/peerjs`;

export interface SignalingLimits {
  /** Live sessions in all. */
  readonly maxClients: number;
  /** Live sessions (and handshakes) from one client address. */
  readonly perAddress: number;
  /** New WebSockets per client address: a burst (pages behind one NAT opening together), then a rate. */
  readonly handshakeBurst: number;
  readonly handshakePerSec: number;
  /** One WebSocket message. */
  readonly messageBytes: number;
  /** Messages per socket: a burst (several peers dialing at once), then a rate. */
  readonly socketBurst: number;
  readonly socketPerSec: number;
  /** Messages per client address, all its sockets together. */
  readonly addressBurst: number;
  readonly addressPerSec: number;
  /** Malformed or refused-type messages a socket may send before it is cut. */
  readonly badMessages: number;
  /** Queued for one reconnecting id. */
  readonly queueMessagesPerPeer: number;
  readonly queueBytesPerPeer: number;
  /** Queued by one sending address, over all receivers. */
  readonly queueBytesPerAddress: number;
  /** Queued in all. */
  readonly queueBytesTotal: number;
  /** A queued message not delivered within this answers EXPIRE to its sender. */
  readonly queueExpireMs: number;
  /** A closed session's id stays reserved to its token this long (PeerJS reconnects with both). */
  readonly reconnectGraceMs: number;
  /** A socket silent this long (no message, no pong) is closed; pings go out every third of it. */
  readonly aliveTimeoutMs: number;
  /** Ids one session has exchanged offers with (remembered for ANSWER/CANDIDATE). */
  readonly partnersPerSession: number;
  /** A receiver whose socket has this much unsent is not sent more (dropped). */
  readonly receiverBufferedBytes: number;
}

export const DEFAULT_SIGNALING_LIMITS: SignalingLimits = {
  maxClients: 5_000,
  perAddress: 32,
  handshakeBurst: 64,
  handshakePerSec: 4,
  messageBytes: 64 * 1024,
  socketBurst: 200,
  socketPerSec: 50,
  addressBurst: 1_000,
  addressPerSec: 200,
  badMessages: 20,
  queueMessagesPerPeer: 32,
  queueBytesPerPeer: 64 * 1024,
  queueBytesPerAddress: 256 * 1024,
  queueBytesTotal: 4 * 1024 * 1024,
  queueExpireMs: 5_000,
  reconnectGraceMs: 30_000,
  aliveTimeoutMs: 90_000,
  partnersPerSession: 256,
  receiverBufferedBytes: 512 * 1024,
};

export interface SignalingStats {
  readonly clients: number;
  readonly reserved: number;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  /** Since start: messages relayed, and dropped by the pairing rule, by a queue cap, or as malformed. */
  readonly relayed: number;
  /** Of those, handed to another node (cluster). */
  readonly forwarded: number;
  readonly refusedPairing: number;
  readonly refusedQueue: number;
  /** Sockets refused at the handshake (caps, suspension) and sockets cut (rate, malformed). */
  readonly refusedSockets: number;
  readonly cutSockets: number;
  /** ICE candidates passed on since start, by type (in CANDIDATE messages and in SDP): a relay-only site sees only `relay`. */
  readonly candidates: CandidateCounts;
}

export interface Signaling {
  /** REST routes under /relaycast/signal; false when the path is not a signaling path. */
  handle(req: IncomingMessage, res: ServerResponse, pathname: string): boolean;
  /** Signaling outage (operations, fault tests): drop every websocket and refuse new ones until resumed. */
  suspend(suspended: boolean): void;
  /** A live or reconnecting session of `peerId` opened with `token`, here or (in a cluster) on another node. */
  sessionMatches(peerId: string, token: string): Promise<boolean>;
  /** A message from another node for an id held here (cluster). */
  deliver(m: RelayMessage): void;
  /** The session of `id` went on on another node: forget it here, handing on what was queued for it. */
  moved(id: string): void;
  /** Ids held here, live or reserved: their records are refreshed in the shared store. */
  heldIds(): Iterable<string>;
  /** After a store outage: claims every id held here again; one another token took meanwhile is closed. */
  reclaim(): Promise<void>;
  stats(): SignalingStats;
  /** Terminates websockets, stops timers. Idempotent. */
  close(): void;
}

export interface SignalingConfig {
  readonly log: LogFn;
  readonly trustProxy: boolean;
  /** Whether two ids may start a connection: the tracker has them in a common swarm. */
  readonly mayPair: (a: string, b: string) => boolean;
  readonly limits?: Partial<SignalingLimits>;
  readonly nowMs?: () => number;
  /** Other nodes sharing ids and routes (cluster/signal-link.ts); undefined: this process alone. */
  readonly remote?: SignalingRemote;
  /** The per-address rate limiters (shared across nodes in a cluster, cluster/rate-share.ts). */
  readonly rateLimiter?: (name: 'signal-messages' | 'signal-handshakes', burst: number, perSec: number) => RateLimiter;
}

/** A signaling message as relayed to a page. */
export interface WireRelay {
  readonly type: NodeRelayedType;
  readonly src: string;
  readonly dst: string;
  readonly payload?: unknown;
}

/** What signaling asks of the other nodes of a cluster (cluster/signal-link.ts). */
export interface SignalingRemote {
  /** Binds `id` to `token` across nodes: false when another token holds it; true while the store is down (this node's view). */
  claim(id: string, token: string): Promise<boolean>;
  /** `id`'s session ended here (its reservation ran out). */
  release(id: string): void;
  /** Hands `m` to the node holding `m.dst`; false when no live node has it. */
  forward(m: Omit<RelayMessage, 't'>): Promise<boolean>;
  /** `id` is bound to `token` on some node. */
  sessionMatches(id: string, token: string): Promise<boolean>;
}

export interface Queued {
  readonly msg: WireRelay;
  readonly text: string;
  readonly bytes: number;
  readonly src: string;
  readonly srcAddress: string;
  readonly atMs: number;
}

export interface Session {
  readonly id: string;
  readonly token: string;
  ws: WebSocket | undefined;
  address: string;
  /** When the socket closed (reserved until + reconnectGraceMs); undefined while live. */
  closedAtMs: number | undefined;
  readonly partners: Set<string>;
  readonly queue: Queued[];
  queueBytes: number;
  /** While the id is being claimed across nodes: OPEN waits for it. */
  claim: Promise<boolean> | undefined;
}

/** Per-socket state: `dead` once a cap is hit; from then on its messages are not read. */
export interface Conn {
  dead: boolean;
  bad: number;
  lastSeenMs: number;
  readonly rate: TokenBucket;
  readonly address: string;
  session: Session | undefined;
  /** Waiting for its id's claim: what it sends meanwhile is ignored. */
  pending: boolean;
}

export const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
export const RELAYED: ReadonlySet<string> = new Set(['OFFER', 'ANSWER', 'CANDIDATE', 'LEAVE']);
export const PEERJS_INFO = { name: 'PeerJS Server', description: 'A server side element to broker connections between PeerJS clients.', website: 'https://peerjs.com/' };
export const REST_CORS = { 'Access-Control-Allow-Origin': '*' };

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function refuseUpgrade(socket: Duplex, status: number, reason: string, extra = ''): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`);
  socket.destroy();
}
