import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import WebSocket from 'ws';
import { startAdapter } from '../../origin-adapter/index.js';
import { candidateType, countCandidates, iceAnswer, iceOptionsError, noCandidates, turnPassword } from '../../origin-adapter/ice.js';
import { IceConfig, parseIceAnswer, type FetchFn } from '../../client/transport/ice-config.js';
import { routeInStats, routeOf } from '../../client/transport/link-route.js';
import { httpGet, silent } from './adapter-helpers.js';

const SECRET = 'lab-secret-0123456789';
const OPTS = { stunUrls: ['stun:turn.example.org:3478'], turnUrls: ['turn:turn.example.org:3478?transport=udp'], turnSecret: SECRET, turnTtlSec: 3600 };

test('TURN REST credentials: username "expiry:label", password base64(HMAC-SHA1(secret, username)), a new one per answer', () => {
  const now = 1_700_000_000_000;
  const a = iceAnswer(OPTS, now, 'abc');
  assert.deepEqual(a.iceServers[0], { urls: ['stun:turn.example.org:3478'] });
  const turn = a.iceServers[1];
  assert.ok(turn);
  assert.equal(turn.username, `${1_700_000_000 + 3600}:abc`);
  assert.equal(turn.credential, createHmac('sha1', SECRET).update(turn.username ?? '').digest('base64'));
  assert.equal(turn.credential, turnPassword(SECRET, turn.username ?? ''));
  assert.equal(a.ttlSec, 3600);
  assert.ok(!JSON.stringify(a).includes(SECRET), 'the secret itself is never in an answer');
  const b = iceAnswer(OPTS, now);
  assert.notEqual(b.iceServers[1]?.username, a.iceServers[1]?.username);
  assert.deepEqual(iceAnswer({ ...OPTS, turnUrls: [], turnSecret: undefined }, now), { iceServers: [{ urls: ['stun:turn.example.org:3478'] }] });
  assert.deepEqual(iceAnswer({ stunUrls: [], turnUrls: [], turnSecret: undefined, turnTtlSec: 3600 }, now), { iceServers: [] });
});

test('ICE options: URLs, secret and lifetime are checked; the adapter refuses to start with bad ones', async () => {
  assert.equal(iceOptionsError(OPTS), null);
  assert.match(iceOptionsError({ ...OPTS, turnSecret: undefined }) ?? '', /need turnSecret/);
  assert.match(iceOptionsError({ ...OPTS, turnUrls: [] }) ?? '', /needs at least one turnUrl/);
  assert.match(iceOptionsError({ ...OPTS, turnSecret: 'short' }) ?? '', /at least 16/);
  assert.match(iceOptionsError({ ...OPTS, turnUrls: ['http://x'] }) ?? '', /not a turn URL/);
  assert.match(iceOptionsError({ ...OPTS, stunUrls: ['stun:a b'] }) ?? '', /not a stun URL/);
  assert.match(iceOptionsError({ ...OPTS, turnTtlSec: 10 }) ?? '', /turnTtlSec/);
  await assert.rejects(startAdapter({ port: 0, source: false, log: silent, turnUrls: ['turn:x:3478'] }), /turnSecret/);
});

test('GET /relaycast/ice: fresh TURN credentials, never cached; an empty list without STUN/TURN', async () => {
  const adapter = await startAdapter({ port: 0, source: false, log: silent, ...OPTS });
  const plain = await startAdapter({ port: 0, source: false, log: silent });
  try {
    const r = await httpGet(`${adapter.url}/relaycast/ice`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    const j = JSON.parse(r.body.toString()) as ReturnType<typeof iceAnswer>;
    const turn = j.iceServers[1];
    assert.ok(turn?.username && turn.credential);
    const expiry = Number(turn.username.split(':')[0]);
    assert.ok(Math.abs(expiry - (Date.now() / 1000 + 3600)) < 5, `expires in an hour: ${turn.username}`);
    assert.equal(turn.credential, turnPassword(SECRET, turn.username));
    const p = JSON.parse((await httpGet(`${plain.url}/relaycast/ice`)).body.toString());
    assert.deepEqual(p, { iceServers: [] });
  } finally {
    await adapter.close();
    await plain.close();
  }
});

test('candidate types: parsed from candidate lines and SDP; junk counts nothing', () => {
  assert.equal(candidateType('candidate:1 1 udp 2122260223 192.168.77.2 50000 typ host generation 0'), 'host');
  assert.equal(candidateType('candidate:2 1 udp 1686052607 10.213.4.2 50000 typ srflx raddr 0.0.0.0 rport 0'), 'srflx');
  assert.equal(candidateType('candidate:3 1 udp 41885439 10.213.4.1 20001 typ relay raddr 10.213.4.2 rport 50000'), 'relay');
  assert.equal(candidateType('candidate:3 1 udp 1 x 1 typ bogus'), undefined);
  const c = noCandidates();
  countCandidates('CANDIDATE', { candidate: { candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ srflx', sdpMid: '0' }, type: 'data' }, c);
  countCandidates('OFFER', { sdp: { type: 'offer', sdp: 'v=0\r\na=candidate:1 1 udp 1 x.local 5 typ host\r\na=candidate:2 1 udp 1 1.2.3.4 5 typ relay\r\n' } }, c);
  for (const junk of [null, 'x', { candidate: 'typ host' }, { sdp: 5 }, { candidate: { candidate: 7 } }]) countCandidates('CANDIDATE', junk, c);
  countCandidates('ANSWER', { sdp: { sdp: 'typ host' } }, c);
  assert.deepEqual(c, { host: 1, srflx: 1, prflx: 0, relay: 1 });
});

test('signaling counts the candidates it passes between peers of a swarm, by type', async () => {
  const adapter = await startAdapter({ port: 0, source: false, log: silent });
  const socks: WebSocket[] = [];
  try {
    const open = async (): Promise<{ id: string; ws: WebSocket }> => {
      const id = randomUUID();
      const token = randomBytes(16).toString('hex');
      const ws = new WebSocket(`${adapter.url.replace('http', 'ws')}/relaycast/signal/peerjs?key=peerjs&id=${id}&token=${token}`);
      socks.push(ws);
      await new Promise<void>((resolve, reject) => {
        ws.once('message', () => resolve());
        ws.once('error', reject);
      });
      const r = await httpGet(`${adapter.url}/relaycast/tracker`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'announce', swarm: 'http://x/live/a.m3u8', peerId: id, token }) });
      assert.equal(r.status, 200);
      return { id, ws };
    };
    const a = await open();
    const b = await open();
    const got: string[] = [];
    b.ws.on('message', (d: Buffer) => got.push(JSON.parse(d.toString()).type));
    a.ws.send(JSON.stringify({ type: 'OFFER', dst: b.id, payload: { sdp: { type: 'offer', sdp: 'v=0\r\n' }, type: 'data', connectionId: 'dc_1' } }));
    a.ws.send(JSON.stringify({ type: 'CANDIDATE', dst: b.id, payload: { candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ relay raddr 1.1.1.1 rport 1' }, type: 'data', connectionId: 'dc_1' } }));
    a.ws.send(JSON.stringify({ type: 'CANDIDATE', dst: b.id, payload: { candidate: { candidate: 'candidate:2 1 udp 1 1.1.1.1 9 typ srflx' }, type: 'data', connectionId: 'dc_1' } }));
    for (let i = 0; i < 50 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, ['OFFER', 'CANDIDATE', 'CANDIDATE']);
    assert.deepEqual(adapter.signalingStats()?.candidates, { host: 0, srflx: 1, prflx: 0, relay: 1 });
  } finally {
    for (const s of socks) s.close();
    await adapter.close();
  }
});

function fakeFetch(answers: (() => Promise<Response>)[]): { fetch: FetchFn; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: (url) => {
      calls.push(url);
      const next = answers.shift();
      return next ? next() : Promise.reject(new Error('offline'));
    },
  };
}

test('client ICE config: adds what the adapter hands out to the configured servers; 404, junk or no network leave the configured ones', async () => {
  const configured = [{ urls: 'stun:own.example:3478' }];
  const ok = fakeFetch([async () => Response.json({ iceServers: [{ urls: ['turn:t:3478'], username: '1:a', credential: 'c' }, { urls: 'stun:s:1' }, { urls: ['http://evil'] }, { urls: ['turn:x'], username: 5 }], ttlSec: 7200 })]);
  let changes = 0;
  const ice = new IceConfig(configured, 'http://adapter/relaycast/ice', ok.fetch, () => changes++);
  await ice.ready();
  await ice.ready();
  ice.stop();
  assert.equal(ok.calls.length, 1, 'fetched once');
  assert.deepEqual(ice.servers, [{ urls: 'stun:own.example:3478' }, { urls: ['turn:t:3478'], username: '1:a', credential: 'c' }, { urls: ['stun:s:1'] }]);
  assert.equal(changes, 1);
  for (const answer of [async () => new Response('nope', { status: 404 }), async () => new Response('{"x":1}'), async () => new Response('not json'), () => Promise.reject(new Error('down'))]) {
    const f = fakeFetch([answer]);
    const c = new IceConfig(configured, 'http://adapter/relaycast/ice', f.fetch, () => undefined);
    await c.ready();
    c.stop();
    assert.deepEqual(c.servers, configured);
  }
  const none = fakeFetch([]);
  const off = new IceConfig(configured, null, none.fetch, () => undefined);
  await off.ready();
  assert.equal(none.calls.length, 0, 'iceUrl null: nothing fetched');
  assert.equal(parseIceAnswer({ iceServers: 'x' }), undefined);
});

test('link route: relay if either end is a relay, srflx if either is a NAT mapping, host otherwise; from the selected pair in getStats', () => {
  assert.equal(routeOf('host', 'host'), 'host');
  assert.equal(routeOf('srflx', 'host'), 'srflx');
  assert.equal(routeOf('prflx', 'srflx'), 'srflx');
  assert.equal(routeOf('relay', 'srflx'), 'relay');
  assert.equal(routeOf('host', undefined), undefined);
  const stats = [
    { id: 'T1', type: 'transport', selectedCandidatePairId: 'P2' },
    { id: 'P1', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', nominated: true, state: 'succeeded' },
    { id: 'P2', type: 'candidate-pair', localCandidateId: 'L2', remoteCandidateId: 'R1', nominated: true, state: 'succeeded' },
    { id: 'L1', type: 'local-candidate', candidateType: 'host' },
    { id: 'L2', type: 'local-candidate', candidateType: 'relay' },
    { id: 'R1', type: 'remote-candidate', candidateType: 'srflx' },
  ];
  assert.equal(routeInStats(stats), 'relay', "the transport's selected pair wins");
  assert.equal(routeInStats(stats.filter((s) => s.type !== 'transport' && s.id !== 'P2')), 'srflx', 'else the nominated, succeeded pair');
  assert.equal(routeInStats([]), undefined);
});
