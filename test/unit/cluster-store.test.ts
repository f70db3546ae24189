// The shared state's contract, checked the same way on the in-process hub and on a real Redis:
// ids unique across nodes and bound to their token, records and nodes gone at their TTL, one
// leader at a time, publish answering how many heard it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryHub } from '../../origin-adapter/cluster/memory-store.js';
import { createRedisStore } from '../../origin-adapter/cluster/redis-store.js';
import { hashToken, newNodeId, parsePeerRecord, type ClusterStore } from '../../origin-adapter/cluster/store.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

interface Backend {
  /** Two nodes' connections to one shared state. */
  pair(): Promise<[ClusterStore, ClusterStore]>;
  /** Lets `ms` pass for the backend's expiry clock. */
  pass(ms: number): Promise<void>;
}

const silent = (): void => undefined;
const rec = (node: string, token: string) => ({ node, tokenHash: hashToken(token) });

function contract(name: string, backend: () => Backend): void {
  describe(name, () => {
    test('an id is unique across nodes and bound to its token; the same token resumes it on another node', async () => {
      const b = backend();
      const [s1, s2] = await b.pair();
      const [n1, n2] = [newNodeId(), newNodeId()];
      const id = `peer-${Math.random()}`;
      assert.deepEqual(await s1.claim(id, rec(n1, 'token-a-0123456789'), 10_000), { kind: 'new' });
      assert.deepEqual(await s2.claim(id, rec(n2, 'token-b-0123456789'), 10_000), { kind: 'taken' }, 'another token on another node');
      assert.deepEqual(await s2.locate(id), rec(n1, 'token-a-0123456789'));
      assert.deepEqual(await s2.claim(id, rec(n2, 'token-a-0123456789'), 10_000), { kind: 'resumed', from: n1 }, 'the same page on another node');
      await s1.release(id, n1);
      assert.equal((await s2.locate(id))?.node, n2, 'the old node cannot release a moved id');
      await s2.release(id, n2);
      assert.equal(await s1.locate(id), undefined);
    });

    test('records and nodes expire at their TTL unless refreshed', async () => {
      const b = backend();
      const [s1, s2] = await b.pair();
      const [n1, n2] = [newNodeId(), newNodeId()];
      const [kept, dropped] = [`k-${Math.random()}`, `d-${Math.random()}`];
      await s1.claim(kept, rec(n1, 'token-a-0123456789'), 400);
      await s1.claim(dropped, rec(n1, 'token-a-0123456789'), 400);
      assert.deepEqual([...(await s1.heartbeat(n1, 400))], [n1]);
      assert.deepEqual(new Set(await s2.heartbeat(n2, 5000)), new Set([n1, n2]));
      await b.pass(250);
      await s1.refresh([kept], 400);
      await b.pass(250);
      assert.notEqual(await s2.locate(kept), undefined, 'refreshed');
      assert.equal(await s2.locate(dropped), undefined, 'not refreshed: gone');
      assert.deepEqual([...(await s2.heartbeat(n2, 5000))], [n2], 'a node that stopped beating left the live set');
      assert.deepEqual(await s2.claim(dropped, rec(n2, 'token-b-0123456789'), 400), { kind: 'new' }, 'an expired id is free');
    });

    test('one leader at a time; the lease passes on when it expires or its holder leaves', async () => {
      const b = backend();
      const [s1, s2] = await b.pair();
      const [n1, n2] = [newNodeId(), newNodeId()];
      assert.equal(await s1.lead(n1, 400), true);
      assert.equal(await s2.lead(n2, 400), false);
      assert.equal(await s1.lead(n1, 400), true, 'renewed');
      await b.pass(500);
      assert.equal(await s2.lead(n2, 400), true, 'expired: taken over');
      await s2.leave(n2);
      assert.equal(await s1.lead(n1, 400), true, 'given up on leaving');
    });

    test('publish reaches subscribers and answers how many heard it', async () => {
      const b = backend();
      const [s1, s2] = await b.pair();
      const got: string[] = [];
      const channel = `test:${Math.random()}`;
      await s2.subscribe(channel, (t) => got.push(t));
      assert.equal(await s1.publish(channel, 'hello'), 1);
      assert.equal(await s1.publish(`${channel}:nobody`, 'x'), 0);
      for (let i = 0; i < 50 && got.length === 0; i++) await sleep(10);
      assert.deepEqual(got, ['hello']);
    });
  });
}

let clock = 0;
const hub = createMemoryHub(() => clock);
contract('in-process hub', () => ({
  pair: async () => [hub.connect(), hub.connect()],
  pass: async (ms) => void (clock += ms),
}));

let redis: RedisServer | undefined;
const opened: ClusterStore[] = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await redis?.stop();
});

async function connected(): Promise<ClusterStore> {
  const url = redis?.url ?? '';
  const s = createRedisStore({ url, log: silent });
  opened.push(s);
  for (let i = 0; i < 200 && !s.ready; i++) await sleep(10);
  assert.ok(s.ready, 'connected to redis');
  return s;
}

contract('redis', () => ({ pair: async () => [await connected(), await connected()], pass: (ms) => sleep(ms) }));

test('redis: a record Redis holds is read as untrusted input', async () => {
  assert.equal(parsePeerRecord('0123456789abcdef tooShort'), undefined);
  assert.equal(parsePeerRecord('not-a-node AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), undefined);
  assert.equal(parsePeerRecord(['0123456789abcdef', 'x']), undefined);
  assert.equal(parsePeerRecord(`0123456789abcdef ${'A'.repeat(43)} extra`), undefined);
  assert.deepEqual(parsePeerRecord(`0123456789abcdef ${'A'.repeat(43)}`), { node: '0123456789abcdef', tokenHash: 'A'.repeat(43) });
});

test('redis: commands fail at once while it is down, and the store reports it back', async () => {
  const s = await connected();
  let downs = 0;
  let readies = 0;
  s.onDown(() => downs++);
  s.onReady(() => readies++);
  await redis?.stop();
  for (let i = 0; i < 300 && s.ready; i++) await sleep(10);
  assert.equal(s.ready, false);
  const t0 = Date.now();
  await assert.rejects(s.locate('x'));
  assert.ok(Date.now() - t0 < 1000, 'no offline queue: failed at once');
  await redis?.start();
  for (let i = 0; i < 500 && !s.ready; i++) await sleep(10);
  assert.equal(s.ready, true, 'reconnected by itself');
  assert.ok(downs >= 1 && readies >= 1);
});
