import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startAdapter, type Adapter } from '../../origin-adapter/index.js';
import { createTracker, trackerConfig, type TrackerConfig } from '../../origin-adapter/tracker.js';
import { parseTrackerPeers, type TrackerAnnounce } from '../../protocol/tracker.js';
import { httpGet, signalSession, silent, type SignalSession } from './adapter-helpers.js';

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const ann = (peerId: string, swarm = 's', uploads = true): TrackerAnnounce => ({ type: 'announce', swarm, peerId, uploads });

function makeTracker(over: Partial<TrackerConfig> = {}) {
  const clock = fakeClock();
  const tracker = createTracker({ ...trackerConfig({ announceIntervalMs: 1000, p2p: true }, clock.now), ...over });
  return { clock, tracker };
}

describe('tracker logic', () => {
  test('join: others returned oldest first, self excluded, non-uploaders hidden', () => {
    const { tracker } = makeTracker();
    assert.deepEqual(tracker.announce(ann('a')).answer.peers, []);
    tracker.announce(ann('b'));
    tracker.announce(ann('quiet', 's', false));
    const { answer, registered } = tracker.announce(ann('c'));
    assert.equal(registered, true);
    assert.deepEqual(answer.peers, ['a', 'b']);
    assert.equal(answer.swarmSize, 4);
    assert.equal(answer.announceIntervalMs, 1000);
    assert.equal(answer.p2p, true);
    assert.deepEqual(tracker.announce(ann('a')).answer.peers, ['b', 'c'], 're-announce keeps join order');
    assert.ok(parseTrackerPeers(JSON.parse(JSON.stringify(answer))).ok);
  });

  test('a large swarm: at most 20 distinct peers, the seeders among them, the rest a random sample', () => {
    const { tracker } = makeTracker();
    for (let i = 0; i < 200; i++) tracker.announce(ann(`p${i}`));
    const seen = new Set<string>();
    for (let k = 0; k < 20; k++) {
      const a = tracker.announce(ann('p100')).answer;
      assert.equal(a.peers.length, 20);
      assert.equal(new Set(a.peers).size, 20);
      assert.ok(!a.peers.includes('p100'));
      assert.deepEqual(a.seeders, ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9'], 'one seeder per 20 viewers, longest present first (no upload rates reported)');
      for (const s of a.seeders) assert.ok(a.peers.includes(s), 'seeders with free slots are listed');
      assert.equal(a.fetchersPerSegment, 4, 'one fetcher per 50 viewers');
      for (const p of a.peers) seen.add(p);
    }
    assert.ok(seen.size > 60, `samples differ between answers (${seen.size} distinct peers seen)`);
  });

  test('swarms are separate', () => {
    const { tracker } = makeTracker();
    tracker.announce(ann('a', 'x'));
    assert.deepEqual(tracker.announce(ann('b', 'y')).answer.peers, []);
    assert.deepEqual(tracker.swarmSizes(), { x: 1, y: 1 });
  });

  test('prune after 3 missed announces (fake clock)', () => {
    const { tracker, clock } = makeTracker();
    tracker.announce(ann('old'));
    clock.advance(2000);
    tracker.announce(ann('new'));
    clock.advance(1500); // old last seen 3500 ms ago > 3000
    assert.deepEqual(tracker.announce(ann('me')).answer.peers, ['new'], 'stale peers are not handed out');
    assert.equal(tracker.prune(), 1);
    assert.deepEqual(tracker.swarmSizes(), { s: 2 });
    clock.advance(10_000);
    assert.equal(tracker.prune(), 2);
    assert.deepEqual(tracker.swarmSizes(), {}, 'empty swarms are dropped');
  });

  test('caps: peers per swarm and swarm count refuse registration but still answer', () => {
    const { tracker } = makeTracker({ maxPeersPerSwarm: 3, maxSwarms: 2 });
    for (const id of ['a', 'b', 'c']) assert.equal(tracker.announce(ann(id)).registered, true);
    const full = tracker.announce(ann('d'));
    assert.equal(full.registered, false);
    assert.deepEqual(full.answer.peers, ['a', 'b', 'c']);
    assert.equal(tracker.announce(ann('a')).registered, true, 'known peers still refresh');
    assert.equal(tracker.announce(ann('x', 'second')).registered, true);
    const noSwarm = tracker.announce(ann('y', 'third'));
    assert.equal(noSwarm.registered, false);
    assert.equal(noSwarm.answer.swarmSize, 0);
    assert.deepEqual(Object.keys(tracker.swarmSizes()).sort(), ['s', 'second']);
  });

  test('kill switch: p2p false and no peers handed out', () => {
    const { tracker } = makeTracker();
    tracker.announce(ann('a'));
    tracker.setP2P(false);
    const { answer } = tracker.announce(ann('b'));
    assert.equal(answer.p2p, false);
    assert.deepEqual(answer.peers, []);
    tracker.setP2P(true);
    assert.deepEqual(tracker.announce(ann('b')).answer.peers, ['a']);
  });

  test('swarm named __proto__ is just a name', () => {
    const { tracker } = makeTracker();
    tracker.announce(ann('a', '__proto__'));
    assert.equal(tracker.swarmSizes()['__proto__'], 1);
  });
});

describe('tracker over HTTP', () => {
  let adapter: Adapter;
  const sessions = new Map<string, SignalSession>();
  before(async () => {
    adapter = await startAdapter({ port: 0, source: false, log: silent, announceIntervalMs: 1000 });
    for (const id of ['p1', 'p2', 'p3', 'a', 'alive', 'victim']) sessions.set(id, await signalSession(adapter.url, id));
  });
  after(async () => {
    for (const s of sessions.values()) s.close();
    await adapter.close();
  });
  const post = (body: string, headers: Record<string, string> = {}) =>
    httpGet(`${adapter.url}/relaycast/tracker`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  /** An announce with the token of `peerId`'s signaling session. */
  const signed = (a: TrackerAnnounce): string => JSON.stringify({ ...a, token: sessions.get(a.peerId)?.token });

  test('announce answers TrackerPeers with CORS', async () => {
    await post(signed(ann('p1', 'http://x/a.m3u8')));
    const r = await post(signed(ann('p2', 'http://x/a.m3u8')));
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    const parsed = parseTrackerPeers(JSON.parse(r.body.toString()));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value.peers, ['p1']);
    assert.equal(parsed.value.announceIntervalMs, 1000);
    assert.deepEqual(adapter.stats().swarms, { 'http://x/a.m3u8': 2 });
  });

  test('OPTIONS preflight', async () => {
    const r = await httpGet(`${adapter.url}/relaycast/tracker`, { method: 'OPTIONS' });
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.match(String(r.headers['access-control-allow-headers']), /content-type/i);
  });

  test('kill switch via setP2P', async () => {
    adapter.setP2P('off');
    const r = await post(signed(ann('p3', 'k')));
    assert.equal(JSON.parse(r.body.toString()).p2p, false);
    assert.equal(adapter.stats().p2p, 'off');
    adapter.setP2P('on');
  });

  test('hostile bodies: 400 / 413, server keeps answering', async () => {
    for (const body of ['', 'nope', '{', 'null', '[]', '{"type":"announce"}', '{"type":"announce","swarm":"s","peerId":"a b"}',
      JSON.stringify({ type: 'announce', swarm: 's', peerId: 'x'.repeat(65) }), '{"__proto__":{"type":"announce"}}']) {
      const r = await post(body);
      assert.equal(r.status, 400, body);
      assert.equal(typeof JSON.parse(r.body.toString()).error, 'string');
    }
    const big = await post(JSON.stringify({ ...ann('a'), token: sessions.get('a')?.token, pad: 'x'.repeat(9000) }));
    assert.equal(big.status, 413);
    assert.equal((await httpGet(`${adapter.url}/relaycast/tracker`)).status, 405);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.json()), async (body) => {
        const r = await post(body);
        assert.ok(r.status === 400 || r.status === 403, `${r.status} for ${body}`);
      }),
      { numRuns: 60 },
    );
    assert.equal((await post(signed(ann('alive')))).status, 200);
  });

  test('an announce is accepted only with the token of the peer id\'s live signaling session', async () => {
    const swarm = 'http://x/bound.m3u8';
    assert.equal((await post(signed(ann('victim', swarm)))).status, 200);
    const attacker = await signalSession(adapter.url);
    try {
      // Withdrawing another page's id (uploads: false), with no token, a wrong one, or the attacker's own.
      for (const token of [undefined, 'x'.repeat(32), attacker.token]) {
        const r = await post(JSON.stringify({ ...ann('victim', swarm, false), ...(token ? { token } : {}) }));
        assert.equal(r.status, 403, String(token));
        assert.match(JSON.parse(r.body.toString()).error, /signaling session/);
      }
      assert.equal((await post(JSON.stringify({ ...ann('nobody', swarm), token: attacker.token }))).status, 403, 'an id with no session at all');
      const p2 = await post(signed(ann('p2', swarm)));
      assert.deepEqual(JSON.parse(p2.body.toString()).peers, ['victim'], 'the victim is still handed out');
      assert.equal((await post(JSON.stringify({ ...ann(attacker.id, swarm), token: attacker.token }))).status, 200, 'its own id is fine');
    } finally {
      attacker.close();
    }
  });

  test('announce types are strict: uploads "yes" is refused', async () => {
    const r = await post(JSON.stringify({ ...ann('p1', 's'), uploads: 'yes', token: sessions.get('p1')?.token }));
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body.toString()).error, /uploads/);
  });
});

test('signaling off: tracker and signaling routes are 404', async () => {
  const a = await startAdapter({ port: 0, source: false, signaling: false, log: silent });
  try {
    assert.equal((await httpGet(`${a.url}/relaycast/tracker`, { method: 'POST', body: JSON.stringify(ann('a')) })).status, 404);
    assert.equal((await httpGet(`${a.url}/relaycast/signal/peerjs/id`)).status, 404);
    assert.deepEqual(a.stats().swarms, {});
  } finally {
    await a.close();
  }
});
