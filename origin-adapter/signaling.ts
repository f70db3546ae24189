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
 *   reserved to its token for `reconnectGraceMs`, so nobody else can take it meanwhile.
 */
import { countCandidates, noCandidates } from './ice.js';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { putBounded } from '../protocol/bounded.js';
import { isRecord, isSafeId } from '../protocol/guards.js';
import { LIMITS } from '../protocol/limits.js';
import { TokenBucket } from '../protocol/token-bucket.js';
import { clientAddress } from './client-address.js';
import { RateLimiter } from './rate-limit.js';
import {
  DEFAULT_SIGNALING_LIMITS, PEERJS_INFO, PEERJS_KEY, RELAYED, REST_CORS, refuseUpgrade, sameToken, SIGNAL_PATH, TOKEN, WS_PATH,
  type Conn, type Queued, type Session, type Signaling, type SignalingConfig, type SignalingLimits,
} from './signaling-types.js';
export { SIGNAL_PATH, PEERJS_KEY, DEFAULT_SIGNALING_LIMITS } from './signaling-types.js';
export type { Signaling, SignalingConfig, SignalingLimits, SignalingStats } from './signaling-types.js';

export function createSignaling(server: Server, cfg: SignalingConfig): Signaling {
  const L: SignalingLimits = { ...DEFAULT_SIGNALING_LIMITS, ...cfg.limits };
  const now = cfg.nowMs ?? Date.now;
  const wss = new WebSocketServer({ noServer: true, maxPayload: L.messageBytes, perMessageDeflate: false, clientTracking: false });
  const sessions = new Map<string, Session>();
  const conns = new Map<WebSocket, Conn>();
  const perAddress = new Map<string, number>();
  const queuedByAddress = new Map<string, number>();
  const addressRate = new RateLimiter(L.addressBurst, L.addressPerSec, 10_000, now);
  const handshakeRate = new RateLimiter(L.handshakeBurst, L.handshakePerSec, 10_000, now);
  const loggedAt = new Map<string, number>();
  let queuedBytes = 0;
  let queuedMessages = 0;
  let suspended = false;
  let closed = false;
  const counts = { relayed: 0, refusedPairing: 0, refusedQueue: 0, refusedSockets: 0, cutSockets: 0 };
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

  const cut = (ws: WebSocket, c: Conn, why: string): void => {
    if (c.dead) return;
    c.dead = true;
    counts.cutSockets++;
    logOnce(c.address, why);
    ws.terminate();
  };

  const unqueue = (q: Queued, s: Session): void => {
    queuedBytes -= q.bytes;
    queuedMessages--;
    s.queueBytes -= q.bytes;
    const a = (queuedByAddress.get(q.srcAddress) ?? q.bytes) - q.bytes;
    if (a <= 0) queuedByAddress.delete(q.srcAddress);
    else queuedByAddress.set(q.srcAddress, a);
  };

  const dropSession = (s: Session, expire: boolean): void => {
    const expired = new Set<string>();
    for (const q of s.queue) {
      unqueue(q, s);
      if (expire && !expired.has(q.src)) {
        expired.add(q.src);
        send(sessions.get(q.src)?.ws, { type: 'EXPIRE', src: s.id, dst: q.src });
      }
    }
    s.queue.length = 0;
    sessions.delete(s.id);
  };

  /** Holds `text` for a reconnecting `dst`; false (dropped at once) over any cap. */
  const enqueue = (dst: Session, text: string, src: string, srcAddress: string): boolean => {
    const bytes = Buffer.byteLength(text);
    const fromAddress = queuedByAddress.get(srcAddress) ?? 0;
    if (
      dst.queue.length >= L.queueMessagesPerPeer ||
      dst.queueBytes + bytes > L.queueBytesPerPeer ||
      fromAddress + bytes > L.queueBytesPerAddress ||
      queuedBytes + bytes > L.queueBytesTotal
    ) {
      return false;
    }
    dst.queue.push({ text, bytes, src, srcAddress, atMs: now() });
    dst.queueBytes += bytes;
    queuedBytes += bytes;
    queuedMessages++;
    queuedByAddress.set(srcAddress, fromAddress + bytes);
    return true;
  };

  /** OFFER/ANSWER/CANDIDATE/LEAVE from `from` to `dst`, if the pairing rule allows it. */
  const relay = (from: Session, c: Conn, type: string, dst: string, payload: unknown): void => {
    const to = sessions.get(dst);
    const partners = from.partners.has(dst) || to?.partners.has(from.id) === true;
    // A new connection (OFFER) needs a common swarm; the rest of its exchange follows the offer.
    const allowed = partners || (type === 'OFFER' && dst !== from.id && cfg.mayPair(from.id, dst));
    if (!allowed) {
      counts.refusedPairing++;
      return;
    }
    if (type === 'OFFER' && from.partners.size < L.partnersPerSession) from.partners.add(dst);
    countCandidates(type, payload, candidates);
    const text = JSON.stringify({ type, src: from.id, dst, payload });
    if (to === undefined) {
      // Nobody by that id, not even reconnecting: tell the sender now rather than after a timeout.
      if (type === 'OFFER') send(from.ws, { type: 'EXPIRE', src: dst, dst: from.id });
      counts.refusedQueue++;
      return;
    }
    if (to.ws !== undefined) {
      if (send(to.ws, text)) counts.relayed++;
      else counts.refusedQueue++;
      return;
    }
    if (enqueue(to, text, from.id, c.address)) counts.relayed++;
    else counts.refusedQueue++;
  };

  const onMessage = (ws: WebSocket, c: Conn, data: RawData, isBinary: boolean): void => {
    // Nothing a socket sends after a cap was hit is read: not parsed, relayed or logged.
    if (c.dead) return;
    const t = now();
    if (!c.rate.take(t)) return cut(ws, c, 'over its socket message rate, disconnected');
    if (!addressRate.allow(c.address)) return cut(ws, c, 'over its address message rate, disconnected');
    c.lastSeenMs = t;
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
    if (!RELAYED.has(type) || !isSafeId(dst, LIMITS.peerIdChars)) {
      if (++c.bad > L.badMessages) cut(ws, c, 'sent malformed messages, disconnected');
      return;
    }
    relay(s, c, type, dst, msg['payload']);
  };

  /** After the handshake: the PeerJS query, then a new, resumed or refused session. */
  const onConnection = (ws: WebSocket, req: IncomingMessage, address: string): void => {
    const c: Conn = { dead: false, bad: 0, lastSeenMs: now(), rate: new TokenBucket(L.socketBurst, L.socketPerSec, now()), address, session: undefined };
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
    const fail = (msg: string): void => {
      c.dead = true;
      send(ws, { type: 'ERROR', payload: { msg } });
      ws.close();
    };
    if (!key || !id || !token) return fail('No id, token, or key supplied to websocket server');
    if (key !== PEERJS_KEY) return fail('Invalid key provided');
    if (!isSafeId(id, LIMITS.peerIdChars) || !TOKEN.test(token)) return fail('Invalid id or token');
    const known = sessions.get(id);
    if (known !== undefined && !sameToken(known.token, token)) {
      c.dead = true;
      send(ws, { type: 'ID-TAKEN', payload: { msg: 'ID is taken' } });
      ws.close();
      return;
    }
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
        if (sessions.size >= 2 * L.maxClients) return fail('Server has reached its concurrent user limit');
      }
      s = { id, token, ws, address, closedAtMs: undefined, partners: new Set(), queue: [], queueBytes: 0 };
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
    send(ws, { type: 'OPEN' });
    for (const m of s.queue) {
      unqueue(m, s);
      send(ws, m.text);
    }
    s.queue.length = 0;
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
      while (s.queue.length > 0 && t - (s.queue[0]?.atMs ?? t) >= L.queueExpireMs) {
        const q = s.queue.shift();
        if (q === undefined) break;
        unqueue(q, s);
        send(sessions.get(q.src)?.ws, { type: 'EXPIRE', src: s.id, dst: q.src });
      }
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
    handle(req, res, pathname) {
      if (pathname !== SIGNAL_PATH && !pathname.startsWith(`${SIGNAL_PATH}/`)) return false;
      if (suspended) {
        res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '5' });
        res.end('signaling suspended\n');
        return true;
      }
      const rest = pathname.slice(SIGNAL_PATH.length);
      const reply = (status: number, type: string, body: string): void => {
        res.writeHead(status, { ...REST_CORS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') reply(405, 'text/plain', 'method not allowed\n');
      else if (rest === '' || rest === '/') reply(200, 'application/json', JSON.stringify(PEERJS_INFO));
      else if (rest === `/${PEERJS_KEY}/id`) reply(200, 'text/html; charset=utf-8', randomUUID());
      else if (rest === `/${PEERJS_KEY}/peers`) reply(401, 'text/plain', 'Unauthorized');
      else reply(404, 'text/plain', 'not found\n');
      return true;
    },
    suspend(on) {
      suspended = on;
      if (on) terminateAll();
    },
    sessionMatches(peerId, token) {
      const s = sessions.get(peerId);
      return s !== undefined && sameToken(s.token, token);
    },
    stats() {
      let live = 0;
      for (const s of sessions.values()) if (s.ws !== undefined) live++;
      return { clients: live, reserved: sessions.size - live, queuedMessages, queuedBytes, ...counts, candidates: { ...candidates } };
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
