/**
 * Simulated pages for the signaling benchmark, in a process of their own (signal.ts forks a few:
 * one process holds at most some thousands of sockets). Each peer speaks PeerJS's protocol as the
 * `peerjs` client does: opens its WebSocket with an id and token, announces its swarm to its
 * node's tracker, sends HEARTBEAT every 5 s, and every `exchangeMs` offers a connection to a
 * random peer of its swarm (an OFFER, answered with an ANSWER, then CANDIDATEs both ways). Every
 * relayed message carries the wall-clock time it was sent; the receiver records the difference.
 */
import { request } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { isRecord } from '../../protocol/guards.js';
import { newHistogram, quantileMs, record, type Histogram } from './signal-stats.js';

export interface PeerSpec {
  readonly id: string;
  readonly token: string;
  readonly url: string;
  readonly from: string;
  readonly swarm: string;
  readonly mates: readonly string[];
}

interface Peer {
  readonly spec: PeerSpec;
  ws: WebSocket | undefined;
  timers: NodeJS.Timeout[];
}

const SDP = 'v=0 '.padEnd(1200, 'a');
const CANDIDATE = 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host '.padEnd(150, 'x');
const clock = (): number => performance.timeOrigin + performance.now();
const peers = new Map<string, Peer>();
const lag = monitorEventLoopDelay({ resolution: 10 });
let hist: Histogram = newHistogram();
const counts = { sent: 0, received: 0, expired: 0, dropped: 0 };
let exchangeMs = 10_000;
let traffic = false;

const send = (p: Peer, m: unknown): void => {
  if (p.ws?.readyState !== WebSocket.OPEN) return;
  p.ws.send(JSON.stringify(m));
  counts.sent++;
};

function onMessage(p: Peer, data: unknown): void {
  let m: unknown;
  try {
    m = JSON.parse(String(data));
  } catch {
    return;
  }
  if (!isRecord(m)) return;
  const payload = m['payload'];
  const src = m['src'];
  if (m['type'] === 'EXPIRE') counts.expired++;
  if (!isRecord(payload) || typeof payload['t'] !== 'number' || typeof src !== 'string') return;
  counts.received++;
  if (traffic) record(hist, clock() - payload['t']);
  const cid = payload['connectionId'];
  if (m['type'] === 'OFFER') {
    send(p, { type: 'ANSWER', dst: src, payload: { sdp: SDP, connectionId: cid, t: clock() } });
    for (let i = 0; i < 2; i++) send(p, { type: 'CANDIDATE', dst: src, payload: { candidate: CANDIDATE, connectionId: cid, t: clock() } });
  } else if (m['type'] === 'ANSWER') {
    for (let i = 0; i < 2; i++) send(p, { type: 'CANDIDATE', dst: src, payload: { candidate: CANDIDATE, connectionId: cid, t: clock() } });
  }
}

function announce(s: PeerSpec): Promise<boolean> {
  const body = JSON.stringify({ type: 'announce', swarm: s.swarm, peerId: s.id, token: s.token, uploads: true, freeLinks: 8 });
  return new Promise((resolve) => {
    const req = request(`${s.url}/relaycast/tracker`, { method: 'POST', localAddress: s.from, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end(body);
  });
}

/** Opens `s`'s socket: true on OPEN; false when refused (429/503, ID-TAKEN, ERROR) or failed. */
function open(s: PeerSpec): Promise<boolean> {
  const p: Peer = { spec: s, ws: undefined, timers: [] };
  return new Promise((resolve) => {
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/relaycast/signal/peerjs?key=peerjs&id=${s.id}&token=${s.token}`, { localAddress: s.from, perMessageDeflate: false });
    ws.once('message', (d) => {
      const ok = String(d).includes('"OPEN"');
      if (!ok) return resolve(false);
      p.ws = ws;
      peers.set(s.id, p);
      ws.on('message', (data) => onMessage(p, data));
      ws.once('close', () => {
        if (p.ws === ws) counts.dropped++;
        p.ws = undefined;
      });
      resolve(true);
    });
    ws.once('error', () => resolve(false));
  });
}

async function join(list: readonly PeerSpec[]): Promise<{ joined: number; refused: number; announceFailed: number }> {
  let joined = 0;
  let refused = 0;
  let announceFailed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < list.length; i = next++) {
      const s = list[i];
      if (s === undefined) continue;
      if (!(await open(s))) {
        refused++;
        continue;
      }
      joined++;
      if (!(await announce(s))) announceFailed++;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return { joined, refused, announceFailed };
}

function startTraffic(p: Peer): void {
  const mates = p.spec.mates;
  const offer = (): void => {
    const dst = mates[Math.floor(Math.random() * mates.length)];
    if (dst !== undefined) send(p, { type: 'OFFER', dst, payload: { sdp: SDP, type: 'data', connectionId: `dc_${Math.random().toString(36).slice(2)}`, t: clock() } });
  };
  p.timers.push(setTimeout(() => {
    offer();
    p.timers.push(setInterval(offer, exchangeMs));
  }, Math.random() * exchangeMs));
  p.timers.push(setInterval(() => send(p, { type: 'HEARTBEAT' }), 5000));
}

function parsePeers(v: unknown): PeerSpec[] {
  if (!Array.isArray(v)) return [];
  const out: PeerSpec[] = [];
  for (const x of v) {
    if (!isRecord(x)) continue;
    const { id, token, url, from, swarm, mates } = x;
    if (typeof id === 'string' && typeof token === 'string' && typeof url === 'string' && typeof from === 'string' && typeof swarm === 'string' && Array.isArray(mates)) {
      out.push({ id, token, url, from, swarm, mates: mates.filter((m): m is string => typeof m === 'string') });
    }
  }
  return out;
}

process.on('message', (m: unknown) => {
  if (!isRecord(m)) return;
  const reply = (v: unknown): void => void process.send?.(v);
  switch (m['cmd']) {
    case 'join':
      void join(parsePeers(m['peers'])).then((r) => reply({ ev: 'joined', ...r }));
      break;
    case 'traffic':
      if (typeof m['exchangeMs'] === 'number') exchangeMs = m['exchangeMs'];
      traffic = true;
      for (const p of peers.values()) if (p.timers.length === 0) startTraffic(p);
      reply({ ev: 'traffic' });
      break;
    case 'window':
      hist = newHistogram();
      counts.sent = counts.received = counts.expired = 0;
      lag.reset();
      lag.enable();
      reply({ ev: 'window' });
      break;
    case 'collect':
      reply({ ev: 'samples', hist, ...counts, open: [...peers.values()].filter((p) => p.ws !== undefined).length, lagMsP99: lag.percentile(99) / 1e6, p99Here: quantileMs(hist, 0.99) });
      break;
    case 'close':
      for (const p of peers.values()) {
        for (const t of p.timers) clearTimeout(t);
        p.ws?.terminate();
      }
      process.exit(0);
  }
});
process.send?.({ ev: 'ready' });
