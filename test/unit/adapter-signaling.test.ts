import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { startAdapter, type Adapter } from '../../origin-adapter/index.js';
import { DEFAULT_SIGNALING_LIMITS } from '../../origin-adapter/signaling.js';
import { httpGet, silent } from './adapter-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logs: string[] = [];
let adapter: Adapter;
before(async () => {
  adapter = await startAdapter({ port: 0, source: false, log: (l) => logs.push(l), connections: { signalingPerAddress: 6 } });
});
after(() => adapter.close());

interface Client {
  readonly ws: WebSocket;
  readonly first: unknown;
  /** Every message after the first. */
  readonly got: unknown[];
  readonly id: string;
  readonly token: string;
}

function open(opts: { id?: string; token?: string; key?: string; from?: string } = {}): Promise<Client> {
  const id = opts.id ?? randomUUID();
  const token = opts.token ?? randomUUID().replace(/-/g, '');
  const ws = new WebSocket(`${adapter.url.replace('http', 'ws')}/relaycast/signal/peerjs?key=${opts.key ?? 'peerjs'}&id=${id}&token=${token}`, { localAddress: opts.from ?? '127.0.0.1' });
  const got: unknown[] = [];
  return new Promise((resolve, reject) => {
    ws.once('message', (data: Buffer) => {
      ws.on('message', (d: Buffer) => got.push(JSON.parse(d.toString())));
      resolve({ ws, first: JSON.parse(data.toString()), got, id, token });
    });
    ws.once('error', reject);
  });
}

/** `c` joins `swarm` at the tracker, with the token of its signaling session. */
async function join(c: Client, swarm: string): Promise<number> {
  const r = await httpGet(`${adapter.url}/relaycast/tracker`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'announce', swarm, peerId: c.id, token: c.token, uploads: true }),
  });
  return r.status;
}

const closed = (ws: WebSocket): Promise<void> => (ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise((r) => ws.once('close', () => r())));

test('PeerJS websocket at /relaycast/signal/peerjs answers OPEN', async () => {
  const c = await open();
  assert.deepEqual(c.first, { type: 'OPEN' });
  c.ws.close();
});

test('PeerJS REST id endpoint and no discovery', async () => {
  const r = await httpGet(`${adapter.url}/relaycast/signal/peerjs/id`);
  assert.equal(r.status, 200);
  assert.match(r.body.toString(), /^[0-9a-f-]{36}$/);
  assert.equal((await httpGet(`${adapter.url}/relaycast/signal/peerjs/peers`)).status, 401);
});

test('an id is bound to its token: another token gets ID-TAKEN, the same token resumes the session', async () => {
  const a = await open();
  const thief = await open({ id: a.id });
  assert.equal((thief.first as { type: string }).type, 'ID-TAKEN');
  a.ws.close();
  await closed(a.ws);
  const thief2 = await open({ id: a.id });
  assert.equal((thief2.first as { type: string }).type, 'ID-TAKEN', 'a closed session\'s id stays reserved to its token');
  const back = await open({ id: a.id, token: a.token });
  assert.deepEqual(back.first, { type: 'OPEN' });
  back.ws.close();
});

test('OFFER, ANSWER and CANDIDATE relayed between ids in a common tracker swarm; dropped from outside it', async () => {
  const swarm = `http://x/${randomUUID()}.m3u8`;
  const [a, b, outsider] = [await open(), await open(), await open()];
  assert.equal(await join(a, swarm), 200);
  assert.equal(await join(b, swarm), 200);
  assert.equal(await join(outsider, `http://x/${randomUUID()}.m3u8`), 200);
  a.ws.send(JSON.stringify({ type: 'OFFER', dst: b.id, payload: { sdp: 'x', connectionId: 'c1' } }));
  await sleep(100);
  assert.deepEqual(b.got, [{ type: 'OFFER', src: a.id, dst: b.id, payload: { sdp: 'x', connectionId: 'c1' } }]);
  b.ws.send(JSON.stringify({ type: 'ANSWER', dst: a.id, payload: { sdp: 'y' } }));
  b.ws.send(JSON.stringify({ type: 'CANDIDATE', dst: a.id, payload: { candidate: 'z' } }));
  await sleep(100);
  assert.deepEqual(a.got.map((m) => (m as { type: string }).type), ['ANSWER', 'CANDIDATE'], 'the answer side follows the offer');
  // Forged offers and candidates from an id with no swarm in common: dropped at the server.
  for (let i = 0; i < 50; i++) {
    outsider.ws.send(JSON.stringify({ type: 'OFFER', dst: b.id, payload: { sdp: 'evil', connectionId: `e${i}` } }));
    outsider.ws.send(JSON.stringify({ type: 'CANDIDATE', dst: b.id, payload: { candidate: 'evil', connectionId: `e${i}` } }));
  }
  outsider.ws.send(JSON.stringify({ type: 'ANSWER', dst: a.id, payload: { sdp: 'evil' } }));
  await sleep(150);
  assert.equal(b.got.length, 1, 'b got nothing from the outsider');
  assert.equal(a.got.length, 2, 'a got nothing from the outsider');
  for (const c of [a, b, outsider]) c.ws.close();
});

test('an OFFER to an id the tracker never saw is dropped; queued bytes for a reconnecting id are capped', async () => {
  const swarm = `http://x/${randomUUID()}.m3u8`;
  const a = await open();
  const nobody = randomUUID();
  a.ws.send(JSON.stringify({ type: 'OFFER', dst: nobody, payload: {} }));
  await sleep(100);
  assert.deepEqual(a.got, [], 'an id the tracker never saw: not even paired, dropped');
  const b = await open();
  assert.equal(await join(a, swarm), 200);
  assert.equal(await join(b, swarm), 200);
  b.ws.close();
  await closed(b.ws);
  // 150 x 60 KB of offers for b while it reconnects: at most one fits its queue (64 KiB).
  const pad = 'p'.repeat(60_000);
  for (let i = 0; i < 150 && a.ws.readyState === WebSocket.OPEN; i++) a.ws.send(JSON.stringify({ type: 'OFFER', dst: b.id, payload: { sdp: pad, connectionId: `c${i}` } }));
  await sleep(300);
  const back = await open({ id: b.id, token: b.token });
  await sleep(200);
  assert.ok(back.got.length <= 1, `${back.got.length} queued messages delivered`);
  back.ws.close();
  a.ws.close();
});

test('per-address cap on signaling sockets: over it refused before the handshake; other addresses still get in', async () => {
  const held: WebSocket[] = [];
  let refused = 0;
  for (let i = 0; i < 9; i++) {
    try {
      held.push((await open({ from: '127.0.0.21' })).ws);
    } catch {
      refused++;
    }
  }
  assert.equal(held.length, 6);
  assert.equal(refused, 3);
  const other = await open({ from: '127.0.0.22' });
  assert.deepEqual(other.first, { type: 'OPEN' });
  for (const ws of [...held, other.ws]) ws.close();
});

test('message rate per socket and per address: cut at the cap, nothing it sent after that relayed or logged', async () => {
  const swarm = `http://x/${randomUUID()}.m3u8`;
  const [a, b] = [await open({ from: '127.0.0.31' }), await open()];
  assert.equal(await join(a, swarm), 200);
  assert.equal(await join(b, swarm), 200);
  const logged = logs.length;
  // One burst of 400 offers in a single write burst: the socket budget is 200, refilled at 50/s
  // while the server reads the burst (longer on a busy machine), and nothing after the cut.
  const t0 = Date.now();
  for (let i = 0; i < 400; i++) a.ws.send(JSON.stringify({ type: 'OFFER', dst: b.id, payload: { connectionId: `c${i}` } }));
  await closed(a.ws);
  const budget = DEFAULT_SIGNALING_LIMITS.socketBurst + Math.ceil((DEFAULT_SIGNALING_LIMITS.socketPerSec * (Date.now() - t0)) / 1000);
  await sleep(200);
  assert.ok(b.got.length <= budget, `${b.got.length} relayed (budget ${budget})`);
  assert.ok(logs.length - logged <= 1, 'one log line for the cut, none per message');
  // Several sockets of one address, each under its own budget, share the address's.
  const many = await Promise.all(Array.from({ length: 6 }, () => open({ from: '127.0.0.32' })));
  for (const c of many) for (let i = 0; i < 190; i++) c.ws.send('{"type":"HEARTBEAT"}');
  await sleep(300);
  assert.ok(many.some((c) => c.ws.readyState !== WebSocket.OPEN), 'the address went over its budget');
  for (const c of many) c.ws.close();
  b.ws.close();
});

test('hostile input: wrong key, garbage frames, oversize frames; server survives', async () => {
  const bad = await open({ key: 'nope' });
  assert.equal((bad.first as { type: string }).type, 'ERROR');
  const { ws } = await open();
  for (const junk of ['{', 'null', '"s"', '[]', '{"type":"OFFER"}', '{"type":"__proto__","dst":"x"}', Buffer.from([0xff, 0x00])]) ws.send(junk);
  const code = new Promise<number>((r) => ws.once('close', (c: number) => r(c)));
  ws.send('x'.repeat(200 * 1024));
  assert.equal(await code, 1009, 'message too big');
  const again = await open();
  assert.deepEqual(again.first, { type: 'OPEN' });
  again.ws.close();
  assert.equal((await httpGet(`${adapter.url}/relaycast/stats`)).status, 200);
});

test('signaling off: no upgrade handler, the route is 404', async () => {
  const a = await startAdapter({ port: 0, source: false, signaling: false, log: silent });
  try {
    assert.equal((await httpGet(`${a.url}/relaycast/signal/peerjs/id`)).status, 404);
  } finally {
    await a.close();
  }
});
