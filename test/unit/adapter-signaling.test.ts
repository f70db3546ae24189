import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { startAdapter, type Adapter } from '../../origin-adapter/index.js';
import { httpGet, silent } from './adapter-helpers.js';

let adapter: Adapter;
before(async () => {
  adapter = await startAdapter({ port: 0, source: false, log: silent });
});
after(() => adapter.close());

function open(query: string): Promise<{ ws: WebSocket; first: unknown }> {
  const ws = new WebSocket(`${adapter.url.replace('http', 'ws')}/relaycast/signal/peerjs?${query}`);
  return new Promise((resolve, reject) => {
    ws.once('message', (data: Buffer) => resolve({ ws, first: JSON.parse(data.toString()) }));
    ws.once('error', reject);
  });
}

test('PeerJS websocket at /relaycast/signal/peerjs answers OPEN', async () => {
  const { ws, first } = await open(`key=peerjs&id=${randomUUID()}&token=x`);
  assert.deepEqual(first, { type: 'OPEN' });
  ws.close();
});

test('PeerJS REST id endpoint and no discovery', async () => {
  const r = await httpGet(`${adapter.url}/relaycast/signal/peerjs/id`);
  assert.equal(r.status, 200);
  assert.match(r.body.toString(), /^[0-9a-f-]{36}$/);
  assert.equal((await httpGet(`${adapter.url}/relaycast/signal/peerjs/peers`)).status, 401);
});

test('relays an OFFER between two clients', async () => {
  const [a, b] = [randomUUID(), randomUUID()];
  const A = await open(`key=peerjs&id=${a}&token=t`);
  const B = await open(`key=peerjs&id=${b}&token=t`);
  const got = new Promise<unknown>((r) => B.ws.once('message', (d: Buffer) => r(JSON.parse(d.toString()))));
  A.ws.send(JSON.stringify({ type: 'OFFER', dst: b, payload: { sdp: 'x' } }));
  assert.deepEqual(await got, { type: 'OFFER', src: a, dst: b, payload: { sdp: 'x' } });
  A.ws.close();
  B.ws.close();
});

test('hostile input: wrong key, garbage frames, oversize frames; server survives', async () => {
  const bad = await open(`key=nope&id=${randomUUID()}&token=x`);
  assert.equal((bad.first as { type: string }).type, 'ERROR');
  const { ws } = await open(`key=peerjs&id=${randomUUID()}&token=x`);
  for (const junk of ['{', 'null', '"s"', '[]', '{"type":"OFFER"}', '{"type":"__proto__","dst":"x"}', Buffer.from([0xff, 0x00])]) ws.send(junk);
  const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
  ws.send('x'.repeat(200 * 1024));
  assert.equal(await closed, 1009, 'message too big');
  const again = await open(`key=peerjs&id=${randomUUID()}&token=x`);
  assert.deepEqual(again.first, { type: 'OPEN' });
  again.ws.close();
  assert.equal((await httpGet(`${adapter.url}/relaycast/stats`)).status, 200);
});
