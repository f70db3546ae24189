import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startAdapter, type Adapter } from '../../origin-adapter/index.js';
import { httpGet, signalSession, silent, type SignalSession } from './adapter-helpers.js';

let adapter: Adapter;
const sessions: SignalSession[] = [];
before(async () => {
  adapter = await startAdapter({ port: 0, source: false, log: silent, adminToken: 'adm1n' });
  for (let i = 0; i < 3; i++) {
    const s = await signalSession(adapter.url);
    sessions.push(s);
    const swarm = i < 2 ? 'http://x/live/a.m3u8?token=SECRET123' : 'http://x/live/b.mpd?sig=zz#p0/0/v1';
    const r = await httpGet(`${adapter.url}/relaycast/tracker`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'announce', swarm, peerId: s.id, token: s.token }),
    });
    assert.equal(r.status, 200);
  }
});
after(async () => {
  for (const s of sessions) s.close();
  await adapter.close();
});

test('/relaycast/stats: the public answer is a summary of counts, without swarm ids', async () => {
  const r = await httpGet(`${adapter.url}/relaycast/stats`);
  assert.equal(r.status, 200);
  const j = JSON.parse(r.body.toString());
  assert.deepEqual(Object.keys(j).sort(), ['originPlaylistRequests', 'originSegmentBytes', 'originSegmentRequests', 'p2p', 'peers', 'swarmCount']);
  assert.equal(j.swarmCount, 2);
  assert.equal(j.peers, 3);
  assert.ok(!r.body.toString().includes('SECRET123'));
  assert.ok(r.body.length < 300, 'bounded, whatever the tracker holds');
});

test('/relaycast/stats with the admin token: swarms (query strings redacted) and signaling counters', async () => {
  const wrong = await httpGet(`${adapter.url}/relaycast/stats`, { headers: { authorization: 'Bearer nope' } });
  assert.equal(wrong.body.toString().includes('swarms'), false, 'a wrong token gets the summary');
  const r = await httpGet(`${adapter.url}/relaycast/stats`, { headers: { authorization: 'Bearer adm1n' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  const j = JSON.parse(r.body.toString());
  assert.deepEqual(j.swarms, { 'http://x/live/a.m3u8?<redacted>': 2, 'http://x/live/b.mpd?<redacted>#p0/0/v1': 1 });
  assert.ok(!r.body.toString().includes('SECRET123'));
  assert.equal(j.signaling.clients, 3);
  assert.equal(typeof j.signaling.refusedPairing, 'number');
});
