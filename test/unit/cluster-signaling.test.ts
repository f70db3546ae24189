// Two adapters sharing a real Redis: signaling routes between them, ids stay unique and bound to
// their tokens, a dead node's peers drop out of the routes, and a Redis restart or outage leaves
// each node working on its own view until the shared one is back.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startAdapter, type Adapter } from '../../origin-adapter/index.js';
import { createRedisStore } from '../../origin-adapter/cluster/redis-store.js';
import { startAdapterProcess } from '../support/adapter-process.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { announce, closed, eventually, openSignal, typeOf, type SignalClient } from '../support/signal-client.js';

const timing = { heartbeatMs: 100, nodeTtlMs: 500, peerTtlMs: 1500, peerRefreshMs: 300 };
let redis: RedisServer;
let n1: Adapter;
let n2: Adapter;
before(async () => {
  redis = await startRedis();
  const node = (): Promise<Adapter> => startAdapter({ port: 0, source: false, log: () => undefined, redis: redis.url, clusterTiming: timing });
  [n1, n2] = await Promise.all([node(), node()]);
});
after(async () => {
  await Promise.all([n1?.close(), n2?.close()]);
  await redis?.stop();
});

const swarmName = (): string => `http://x/${randomUUID()}.m3u8`;
const inSwarm = (a: Adapter, swarm: string, n: number) => () => (a.stats().swarms[swarm] ?? 0) === n;

/** `a` on node 1 and `b` on node 2, both announced into one swarm, known to both nodes' trackers. */
async function pairAcross(): Promise<[SignalClient, SignalClient, string]> {
  const swarm = swarmName();
  const [a, b] = [await openSignal(n1.url), await openSignal(n2.url)];
  assert.deepEqual([typeOf(a.first), typeOf(b.first)], ['OPEN', 'OPEN']);
  assert.equal(await announce(n1.url, a, swarm), 200);
  assert.equal(await announce(n2.url, b, swarm), 200);
  assert.ok(await eventually(inSwarm(n1, swarm, 2)), 'node 1 learned the announce node 2 took');
  assert.ok(await eventually(inSwarm(n2, swarm, 2)), 'node 2 learned the announce node 1 took');
  return [a, b, swarm];
}

/** Offers from `a` reach `b` on the other node again (each node claims its ids again when it rejoins). */
async function crossesAgain(a: SignalClient, b: SignalClient): Promise<boolean> {
  const before = b.got.length;
  // Up to 15 s: after a Redis restart the nodes claim their ids again at their next heartbeat, later on a busy machine.
  for (let i = 0; i < 60; i++) {
    a.send({ type: 'OFFER', dst: b.id, payload: { connectionId: `again${i}` } });
    if (await eventually(() => b.got.length > before, 250)) return true;
  }
  return false;
}

test('OFFER, ANSWER and CANDIDATE cross nodes between ids in a common swarm; the pairing rule still holds', async () => {
  const [a, b] = await pairAcross();
  const outsider = await openSignal(n1.url);
  assert.equal(await announce(n1.url, outsider, swarmName()), 200);
  a.send({ type: 'OFFER', dst: b.id, payload: { sdp: 'x', connectionId: 'c1' } });
  assert.ok(await eventually(() => b.got.length === 1));
  assert.deepEqual(b.got[0], { type: 'OFFER', src: a.id, dst: b.id, payload: { sdp: 'x', connectionId: 'c1' } });
  b.send({ type: 'ANSWER', dst: a.id, payload: { sdp: 'y' } });
  b.send({ type: 'CANDIDATE', dst: a.id, payload: { candidate: 'z' } });
  assert.ok(await eventually(() => a.got.length === 2));
  assert.deepEqual(a.got.map(typeOf), ['ANSWER', 'CANDIDATE'], 'the answer side follows the offer, in order');
  for (let i = 0; i < 20; i++) outsider.send({ type: 'OFFER', dst: b.id, payload: { sdp: 'evil', connectionId: `e${i}` } });
  outsider.send({ type: 'ANSWER', dst: b.id, payload: { sdp: 'evil' } });
  await eventually(() => false, 300);
  assert.equal(b.got.length, 1, 'nothing from outside the swarm crossed');
  assert.ok((n1.signalingStats()?.forwarded ?? 0) > 0 && (n2.signalingStats()?.forwarded ?? 0) > 0, 'each node forwarded to the other');
  for (const c of [a, b, outsider]) c.close();
});

test('an announce is accepted on any node with the token of the id\'s session, and refused without it', async () => {
  const a = await openSignal(n1.url);
  const swarm = swarmName();
  assert.equal(await announce(n2.url, a, swarm), 200, 'the session is on node 1, the announce on node 2');
  assert.equal(await announce(n2.url, { id: a.id, token: 'f'.repeat(32) }, swarm), 403);
  assert.equal(await announce(n2.url, { id: randomUUID(), token: a.token }, swarm), 403);
  a.close();
});

test('an id is unique across nodes: another token gets ID-TAKEN; the same token moves the session and closes the old socket', async () => {
  const a = await openSignal(n1.url);
  const held = (): number => (n1.signalingStats()?.clients ?? 0) + (n1.signalingStats()?.reserved ?? 0);
  const heldBefore = held();
  const thief = await openSignal(n2.url, { id: a.id });
  assert.equal(typeOf(thief.first), 'ID-TAKEN');
  const moved = await openSignal(n2.url, { id: a.id, token: a.token });
  assert.equal(typeOf(moved.first), 'OPEN');
  await closed(a.ws);
  assert.ok(await eventually(() => held() === heldBefore - 1), 'node 1 let the session go instead of keeping it reserved');
  const thief2 = await openSignal(n1.url, { id: a.id });
  assert.equal(typeOf(thief2.first), 'ID-TAKEN', 'still bound to its token, now on node 2');
  moved.close();
});

test('a message for an id reconnecting on the other node waits there and follows the session when it moves', async () => {
  const [a, b] = await pairAcross();
  b.close();
  await closed(b.ws);
  a.send({ type: 'OFFER', dst: b.id, payload: { sdp: 'queued', connectionId: 'q1' } });
  assert.ok(await eventually(() => (n2.signalingStats()?.queuedMessages ?? 0) === 1), 'queued on node 2');
  const back = await openSignal(n1.url, { id: b.id, token: b.token });
  assert.equal(typeOf(back.first), 'OPEN');
  assert.ok(await eventually(() => back.got.length === 1), 'the queued offer followed it to node 1');
  assert.equal((back.got[0] as { payload: { sdp: string } }).payload.sdp, 'queued');
  a.close();
  back.close();
});

test('a killed node: its peers drop out of the routes within its TTL, and resume on another node with their token', async () => {
  const dying = await startAdapterProcess(['--no-source', '--redis', redis.url]);
  try {
    const swarm = swarmName();
    const [a, c] = [await openSignal(n1.url), await openSignal(dying.url)];
    assert.equal(await announce(n1.url, a, swarm), 200);
    assert.equal(await announce(dying.url, c, swarm), 200);
    assert.ok(await eventually(inSwarm(n1, swarm, 2)));
    a.send({ type: 'OFFER', dst: c.id, payload: { connectionId: 'before' } });
    assert.ok(await eventually(() => c.got.length === 1), 'routed to the other process');
    await dying.kill();
    // The default node TTL is 5 s: within it (plus a heartbeat), an OFFER to its peer is answered EXPIRE.
    let expired = false;
    for (let i = 0; i < 30 && !expired; i++) {
      a.send({ type: 'OFFER', dst: c.id, payload: { connectionId: `after${i}` } });
      expired = await eventually(() => a.got.some((m) => typeOf(m) === 'EXPIRE'), 500);
    }
    assert.ok(expired, 'the dead node\'s peer is gone from the routes');
    const back = await openSignal(n1.url, { id: c.id, token: c.token });
    assert.equal(typeOf(back.first), 'OPEN', 'the page resumes its id on a live node');
    a.close();
    back.close();
  } finally {
    await dying.kill();
  }
});

test('Redis restarted empty: nodes register again, ids stay bound, routes work again', async () => {
  const [a, b] = await pairAcross();
  await redis.restart();
  assert.ok(await eventually(() => n1.clusterStats()?.up === true && n2.clusterStats()?.up === true, 10_000), 'both nodes back');
  assert.ok(await eventually(() => n1.clusterStats()?.liveNodes === 2, 5000));
  // Node 1 claims the ids it holds again as soon as it is back (Redis came back empty).
  const probe = createRedisStore({ url: redis.url, log: () => undefined });
  try {
    assert.ok(await eventually(async () => probe.ready && (await probe.locate(a.id).catch(() => undefined)) !== undefined, 5000), 'node 1 claimed its ids again');
  } finally {
    await probe.close();
  }
  const thief = await openSignal(n2.url, { id: a.id });
  assert.equal(typeOf(thief.first), 'ID-TAKEN', 'the id is still bound to its token');
  assert.ok(await crossesAgain(a, b), 'crossed again');
  a.close();
  b.close();
});

test('Redis down: each node works on its own view (signaling within a node goes on); cross-node offers expire; back after', async () => {
  const [a, b] = await pairAcross();
  const swarm = swarmName();
  const [x, y] = [await openSignal(n1.url), await openSignal(n1.url)];
  assert.equal(await announce(n1.url, x, swarm), 200);
  assert.equal(await announce(n1.url, y, swarm), 200);
  await redis.stop();
  try {
    assert.ok(await eventually(() => n1.clusterStats()?.up === false, 5000), 'node 1 knows');
    const fresh = await openSignal(n1.url);
    assert.equal(typeOf(fresh.first), 'OPEN', 'new sessions open on this node\'s word');
    assert.equal(await announce(n1.url, fresh, swarm), 200, 'and announce here');
    x.send({ type: 'OFFER', dst: y.id, payload: { connectionId: 'local' } });
    assert.ok(await eventually(() => y.got.length === 1), 'P2P signaling within the node goes on');
    a.send({ type: 'OFFER', dst: b.id, payload: { connectionId: 'cross' } });
    assert.ok(await eventually(() => a.got.some((m) => typeOf(m) === 'EXPIRE')), 'a peer on the other node cannot be reached: EXPIRE at once');
    fresh.close();
  } finally {
    await redis.start();
  }
  assert.ok(await eventually(() => n1.clusterStats()?.up === true && n2.clusterStats()?.liveNodes === 2, 10_000), 'rejoined');
  assert.ok(await crossesAgain(a, b), 'cross-node routes are back');
  for (const c of [a, b, x, y]) c.close();
});
