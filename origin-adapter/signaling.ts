/**
 * PeerJS signaling at /relaycast/signal: the wire protocol of the `peerjs` client 1.5
 * (WebSocket `/relaycast/signal/peerjs?key=peerjs&id=…&token=…`, OPEN, HEARTBEAT, OFFER,
 * ANSWER, CANDIDATE, LEAVE, EXPIRE, ID-TAKEN, ERROR; REST `/peerjs/id`), served by our
 * own code so that every message passes one gate before anything else sees it.
 *
 * Why not the `peer` server package (1.0.2, read in dist/module.mjs): it queues messages for
 * ids that are not connected without any bound (3 sockets x 150 x 60 KB raised the RSS from
 * 107 to 148 MB), caps sockets only globally (one address could take all 5,000 slots), hands
 * a socket's messages to its relay before any listener of ours can refuse them (about 60
 * messages after a rate cap were still relayed and logged), relays between any two ids, and
 * keeps its timers and session tokens out of reach.
 *
 * Here:
 * - per-address and total socket caps, checked before the WebSocket handshake;
 * - a message budget per socket and per address; over it the socket is cut and nothing it
 *   sent afterwards is read, relayed or logged (one log line per address per minute);
 * - OFFER / ANSWER / CANDIDATE / LEAVE relayed only between ids that share a tracker swarm
 *   (`mayPair`) or that already exchanged an offer; everything else is dropped;
 * - a message for an id that is not connected is queued only while that id's session is
 *   reconnecting (closed within `reconnectGraceMs`), within byte caps per receiver, per
 *   sending address and in all (over a cap: dropped at once); an unknown id answers EXPIRE;
 * - sessions are (id, token): the tracker accepts an announce only for a live or
 *   reconnecting session with that token (`sessionMatches`), and a closed session's id stays
 *   reserved to its token for `reconnectGraceMs`, so nobody else can take it meanwhile;
 * - in a cluster (`remote`, cluster/signal-link.ts) an id is claimed in the shared store before
 *   OPEN, so it is unique across nodes, and a message for an id held by another node goes there
 *   (signal-relay.ts).
 */
import { noCandidates } from './ice.js';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { putBounded } from '../protocol/bounded.js';
import { isRecord, isSafeId } from '../protocol/guards.js';
import { LIMITS } from '../protocol/limits.js';
import { TokenBucket } from '../protocol/token-bucket.js';
import { clientAddress } from './client-address.js';
import { RateLimiter } from './rate-limit.js';
import { handleSignalRest } from './signal-rest.js';
import { SignalQueues } from './signal-queue.js';
import { deliver, expireTo, movedAway, relay, type RelayContext } from './signal-relay.js';
import {
  DEFAULT_SIGNALING_LIMITS, PEERJS_KEY, RELAYED, refuseUpgrade, sameToken, TOKEN, WS_PATH,
  type Conn, type Session, type Signaling, type SignalingConfig, type SignalingLimits,
} from './signaling-types.js';
export { SIGNAL_PATH, PEERJS_KEY, DEFAULT_SIGNALING_LIMITS } from './signaling-types.js';
export type { Signaling, SignalingConfig, SignalingLimits, SignalingStats } from './signaling-types.js';

const isRelayed = (t: string): t is 'OFFER' | 'ANSWER' | 'CANDIDATE' | 'LEAVE' => RELAYED.has(t);

export function createSignaling(server: Server, cfg: SignalingConfig): Signaling {
  const L: SignalingLimits = { ...DEFAULT_SIGNALING_LIMITS, ...cfg.limits };
  const now = cfg.nowMs ?? Date.now;
  const wss = new WebSocketServer({ noServer: true, maxPayload: L.messageBytes, perMessageDeflate: false, clientTracking: false });
  const sessions = new Map<string, Session>();
  const conns = new Map<WebSocket, Conn>();
  const perAddress = new Map<string, number>();
  const limiter = cfg.rateLimiter ?? ((_name, burst: number, perSec: number) => new RateLimiter(burst, perSec, 10_000, now));
  const addressRate = limiter('signal-messages', L.addressBurst, L.addressPerSec);
  const handshakeRate = limiter('signal-handshakes', L.handshakeBurst, L.handshakePerSec);
  const loggedAt = new Map<string, number>();
  const queues = new SignalQueues(L);
  let suspended = false;
  let closed = false;
  const counts = { relayed: 0, forwarded: 0, refusedPairing: 0, refusedQueue: 0, refusedSockets: 0, cutSockets: 0 };
  const candidates = noCandidates();

  /** One line per address and reason per minute at most: a flood must not become a log flood. */
  const logOnce = (address: string, what: string): void => {
    const key = `${address} ${what}`;
    const last = loggedAt.get(key);
    if (last !== undefined && now() - last < 60_000) return;
    putBounded(loggedAt, key, now(), 1_000);
    cfg.log(`signaling: ${address} ${what}`);
  };

  /** Sockets from the handshake on, in all. */
  let sockets = 0;
  const addAddress = (address: string, d: number): void => {
    sockets += d;
    const n = (perAddress.get(address) ?? 0) + d;
    if (n <= 0) perAddress.delete(address);
    else perAddress.set(address, n);
  };

  const send = (ws: WebSocket | undefined, msg: unknown): boolean => {
    if (ws === undefined || ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > L.receiverBufferedBytes) return false;
    ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
    return true;
  };

  const ctx: RelayContext = { L, sessions, queues, counts, candidates, mayPair: cfg.mayPair, remote: cfg.remote, nowMs: now, send };

  const cut = (ws: WebSocket, c: Conn, why: string): void => {
    if (c.dead) return;
    c.dead = true;
    counts.cutSockets++;
    logOnce(c.address, why);
    ws.terminate();
  };

  /** Forgets `s` here and frees its id in the shared store; `expire`: its queued senders are told. */
  const dropSession = (s: Session, expire: boolean): void => {
    const told = new Set<string>();
    for (const q of queues.takeAll(s)) {
      if (expire && !told.has(q.src)) {
        told.add(q.src);
        expireTo(ctx, q.src, s.id);
      }
    }
    sessions.delete(s.id);
    cfg.remote?.release(s.id);
  };

  const onMessage = (ws: WebSocket, c: Conn, data: RawData, isBinary: boolean): void => {
    // Nothing a socket sends after a cap was hit is read: not parsed, relayed or logged.
    if (c.dead) return;
    const t = now();
    if (!c.rate.take(t)) return cut(ws, c, 'over its socket message rate, disconnected');
    if (!addressRate.allow(c.address)) return cut(ws, c, 'over its address message rate, disconnected');
    c.lastSeenMs = t;
    if (c.pending) return;
    const s = c.session;
    let msg: unknown;
    try {
      msg = isBinary ? undefined : JSON.parse(data.toString());
    } catch {
      msg = undefined;
    }
    const type = isRecord(msg) ? msg['type'] : undefined;
    if (s === undefined || !isRecord(msg) || typeof type !== 'string') {
      if (++c.bad > L.badMessages) cut(ws, c, 'sent malformed messages, disconnected');
      return;
    }
    if (type === 'HEARTBEAT') return;
    const dst = msg['dst'];
    if (!isRelayed(type) || !isSafeId(dst, LIMITS.peerIdChars)) {
      if (++c.bad > L.badMessages) cut(ws, c, 'sent malformed messages, disconnected');
      return;
    }
    const payload = msg['payload'];
    relay(ctx, s, c.address, { type, src: s.id, dst, ...(payload === undefined ? {} : { payload }) });
  };

  const refuse = (ws: WebSocket, c: Conn, type: 'ERROR' | 'ID-TAKEN', msg: string): void => {
    c.dead = true;
    send(ws, { type, payload: { msg } });
    ws.close();
  };

  /** A new, resumed or refused session for (id, token); in a cluster OPEN waits for the id's claim. */
  const admit = async (ws: WebSocket, c: Conn, id: string, token: string, address: string): Promise<void> => {
    const known = sessions.get(id);
    if (known !== undefined && !sameToken(known.token, token)) return refuse(ws, c, 'ID-TAKEN', 'ID is taken');
    let s = known;
    if (s === undefined) {
      // Reserved ids of closed sessions are kept up to as many again as live ones; the oldest goes first.
      if (sessions.size >= 2 * L.maxClients) {
        for (const x of sessions.values()) {
          if (x.ws === undefined) {
            dropSession(x, true);
            break;
          }
        }
        if (sessions.size >= 2 * L.maxClients) return refuse(ws, c, 'ERROR', 'Server has reached its concurrent user limit');
      }
      s = { id, token, ws, address, closedAtMs: undefined, partners: new Set(), queue: [], queueBytes: 0, claim: cfg.remote?.claim(id, token) };
      sessions.set(id, s);
    } else {
      // The same page reconnecting (PeerJS reuses id and token): the newer socket wins.
      const old = s.ws;
      s.ws = ws;
      s.address = address;
      s.closedAtMs = undefined;
      if (old !== undefined && old !== ws) old.terminate();
    }
    c.session = s;
    if (s.claim !== undefined) {
      c.pending = true;
      const owned = await s.claim;
      c.pending = false;
      if (!owned) {
        // Another node holds the id for another token: not ours to release.
        if (sessions.get(id) === s) sessions.delete(id);
        return refuse(ws, c, 'ID-TAKEN', 'ID is taken');
      }
      s.claim = undefined;
      if (c.dead || ws.readyState !== WebSocket.OPEN) return;
    }
    send(ws, { type: 'OPEN' });
    for (const q of queues.takeAll(s)) send(ws, q.text);
  };

  /** After the handshake: the PeerJS query, then a new, resumed or refused session. */
  const onConnection = (ws: WebSocket, req: IncomingMessage, address: string): void => {
    const c: Conn = { dead: false, bad: 0, lastSeenMs: now(), rate: new TokenBucket(L.socketBurst, L.socketPerSec, now()), address, session: undefined, pending: false };
    conns.set(ws, c);
    ws.on('error', () => undefined);
    ws.on('pong', () => (c.lastSeenMs = now()));
    ws.on('message', (data, isBinary) => onMessage(ws, c, data, isBinary));
    ws.once('close', () => {
      conns.delete(ws);
      addAddress(address, -1);
      const s = c.session;
      if (s !== undefined && s.ws === ws) {
        s.ws = undefined;
        s.closedAtMs = now();
      }
    });
    const q = new URL(req.url ?? '', 'http://local').searchParams;
    const [key, id, token] = [q.get('key'), q.get('id'), q.get('token')];
    if (!key || !id || !token) return refuse(ws, c, 'ERROR', 'No id, token, or key supplied to websocket server');
    if (key !== PEERJS_KEY) return refuse(ws, c, 'ERROR', 'Invalid key provided');
    if (!isSafeId(id, LIMITS.peerIdChars) || !TOKEN.test(token)) return refuse(ws, c, 'ERROR', 'Invalid id or token');
    void admit(ws, c, id, token, address);
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => undefined);
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (path !== WS_PATH && path !== `${WS_PATH}/`) return refuseUpgrade(socket, 404, 'Not Found');
    const address = clientAddress(req, cfg.trustProxy);
    if (closed || suspended) {
      counts.refusedSockets++;
      return refuseUpgrade(socket, 503, 'Service Unavailable', 'Retry-After: 5\r\n');
    }
    if ((perAddress.get(address) ?? 0) >= L.perAddress || sockets >= L.maxClients || !handshakeRate.allow(address)) {
      counts.refusedSockets++;
      logOnce(address, 'over its signaling connection cap, refused');
      return refuseUpgrade(socket, 429, 'Too Many Requests', 'Retry-After: 5\r\n');
    }
    // Counted from the handshake on, so parallel handshakes cannot pass the cap together.
    addAddress(address, 1);
    let upgraded = false;
    socket.once('close', () => {
      if (!upgraded) addAddress(address, -1);
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      upgraded = true;
      onConnection(ws, req, address);
    });
  };
  server.on('upgrade', onUpgrade);

  /** Once a second: expired queues (EXPIRE to senders), ended reservations, silent sockets; pings. */
  let sweeps = 0;
  const timer = setInterval(() => {
    const t = now();
    for (const s of [...sessions.values()]) {
      if (s.ws === undefined && s.closedAtMs !== undefined && t - s.closedAtMs >= L.reconnectGraceMs) {
        dropSession(s, true);
        continue;
      }
      for (const q of queues.takeExpired(s, t, L.queueExpireMs)) expireTo(ctx, q.src, s.id);
    }
    const pingEvery = Math.max(1, Math.round(L.aliveTimeoutMs / 3000));
    const ping = ++sweeps % pingEvery === 0;
    for (const [ws, c] of conns) {
      if (t - c.lastSeenMs >= L.aliveTimeoutMs) ws.terminate();
      else if (ping && ws.readyState === WebSocket.OPEN) ws.ping();
    }
  }, 1000);
  timer.unref();

  const terminateAll = (): void => {
    for (const ws of [...conns.keys()]) ws.terminate();
  };

  return {
    handle: (req, res, pathname) => handleSignalRest(req, res, pathname, suspended),
    suspend(on) {
      suspended = on;
      if (on) terminateAll();
    },
    async sessionMatches(peerId, token) {
      const s = sessions.get(peerId);
      if (s === undefined) return cfg.remote === undefined ? false : cfg.remote.sessionMatches(peerId, token);
      if (!sameToken(s.token, token)) return false;
      // An id still being claimed is not bound to this token until the claim succeeds.
      if (s.claim !== undefined && !(await s.claim)) return false;
      return sessions.get(peerId) === s;
    },
    deliver: (m) => deliver(ctx, m),
    moved(id) {
      movedAway(ctx, id)?.ws?.terminate();
    },
    heldIds: () => sessions.keys(),
    async reclaim() {
      const remote = cfg.remote;
      if (remote === undefined) return;
      await Promise.all(
        [...sessions.values()].map(async (s) => {
          if (s.claim !== undefined || (await remote.claim(s.id, s.token)) || sessions.get(s.id) !== s) return;
          // Another page took the id while the store was out of reach: this session gives it up.
          queues.takeAll(s);
          sessions.delete(s.id);
          if (s.ws !== undefined) {
            send(s.ws, { type: 'ID-TAKEN', payload: { msg: 'ID is taken' } });
            s.ws.close();
          }
        }),
      );
    },
    stats() {
      let live = 0;
      for (const s of sessions.values()) if (s.ws !== undefined) live++;
      return { clients: live, reserved: sessions.size - live, queuedMessages: queues.queuedMessages, queuedBytes: queues.queuedBytes, ...counts, candidates: { ...candidates } };
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      server.off('upgrade', onUpgrade);
      terminateAll();
      wss.close();
    },
  };
}
