import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startAdapter, type Adapter } from '../../origin-adapter/index.js';
import { httpGet, signalSession, silent } from './adapter-helpers.js';

let adapter: Adapter;
let plain: Adapter;
before(async () => {
  adapter = await startAdapter({ port: 0, source: false, adminToken: 's3cret', log: silent });
  plain = await startAdapter({ port: 0, source: false, log: silent });
});
after(async () => {
  await adapter.close();
  await plain.close();
});

const post = (a: Adapter, body: string, auth?: string) =>
  httpGet(`${a.url}/relaycast/admin/p2p`, { method: 'POST', body, headers: auth ? { authorization: auth } : {} });

test('the runtime kill switch needs the bearer token and a valid mode', async () => {
  assert.equal((await post(adapter, 'off')).status, 401);
  assert.equal((await post(adapter, 'off', 'Bearer wrong')).status, 401);
  assert.equal((await post(adapter, 'sideways', 'Bearer s3cret')).status, 400);
  assert.equal((await httpGet(`${adapter.url}/relaycast/admin/p2p`, { headers: { authorization: 'Bearer s3cret' } })).status, 405);
  const r = await post(adapter, 'unregister', 'Bearer s3cret');
  assert.equal(r.status, 200);
  assert.equal(adapter.stats().p2p, 'unregister');
  assert.equal((await post(adapter, 'on\n', 'Bearer s3cret')).status, 200);
  assert.equal(adapter.stats().p2p, 'on');
});

test('without a configured token the endpoint does not exist', async () => {
  assert.equal((await post(plain, 'off', 'Bearer anything')).status, 404);
  assert.equal(plain.stats().p2p, 'on');
});

test('signaling outage: tracker answers 503 until resumed', async () => {
  const p1 = await signalSession(adapter.url, 'p1');
  const body = JSON.stringify({ type: 'announce', swarm: 's', peerId: 'p1', token: p1.token });
  const announce = () => httpGet(`${adapter.url}/relaycast/tracker`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  assert.equal((await announce()).status, 200);
  adapter.setSignaling(false);
  assert.equal((await announce()).status, 503);
  assert.equal((await httpGet(`${adapter.url}/relaycast/signal/peerjs/id`)).status, 503);
  adapter.setSignaling(true);
  const ok = await announce();
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body.toString()).seeders, ['p1'], 'the page reconnects with the same id and token');
  p1.close();
});
