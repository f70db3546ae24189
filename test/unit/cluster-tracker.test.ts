// The tracker and the per-address limits across nodes (on the in-process hub, which keeps the
// store's semantics): announces taken by one node reach the others, every node answers a swarm
// with the leader's seeder list, one address has one budget, and without the store each node
// goes on alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClusterNode, type ClusterNode } from '../../origin-adapter/cluster/node.js';
import { createMemoryHub, type MemoryHub } from '../../origin-adapter/cluster/memory-store.js';
import { createRateShare } from '../../origin-adapter/cluster/rate-share.js';
import { BUS_CHANNEL } from '../../origin-adapter/cluster/store.js';
import { createTrackerShare } from '../../origin-adapter/cluster/tracker-share.js';
import { createTracker, trackerConfig } from '../../origin-adapter/tracker.js';
import type { TrackerAnnounce } from '../../protocol/tracker.js';
import { eventually } from '../support/signal-client.js';

const INTERVAL_MS = 500;
const timing = { heartbeatMs: 50, nodeTtlMs: 300, peerTtlMs: 1000, peerRefreshMs: 200 };

async function cluster(hub: MemoryHub, n: number) {
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < n; i++) {
    const node = createClusterNode({ store: hub.connect(), log: () => undefined, heldIds: () => [], timing });
    await node.start();
    nodes.push(node);
  }
  const parts = nodes.map((node) => {
    const tracker = createTracker({ ...trackerConfig({ announceIntervalMs: INTERVAL_MS, p2p: true }), sharedSeeders: () => node.up() });
    return { node, tracker, share: createTrackerShare(node, tracker, { announceIntervalMs: INTERVAL_MS, flushMs: 20 }) };
  });
  const [a, b] = parts;
  if (a === undefined || b === undefined) throw new Error('two nodes wanted');
  return {
    parts,
    a,
    b,
    async close() {
      for (const p of parts) p.share.close();
      await Promise.all(nodes.map((x) => x.close()));
    },
  };
}

const ann = (peerId: string, swarm = 's', extra: Partial<TrackerAnnounce> = {}): TrackerAnnounce => ({ type: 'announce', swarm, peerId, uploads: true, token: 'secret-token-0123456789', ...extra });

test('announces taken by one node reach the others, without their token; offers may pair across nodes', async () => {
  const hub = createMemoryHub();
  const c = await cluster(hub, 2);
  const { a, b } = c;
  try {
    const heard: string[] = [];
    await hub.connect().subscribe(BUS_CHANNEL, (t) => heard.push(t));
    a.share.announce(ann('p1'), '10.0.0.1');
    b.share.announce(ann('p2'), '10.0.0.2');
    assert.ok(await eventually(() => a.tracker.swarmSizes()['s'] === 2 && b.tracker.swarmSizes()['s'] === 2, 2000));
    assert.ok(a.tracker.shareSwarm('p1', 'p2') && b.tracker.shareSwarm('p2', 'p1'), 'each node lets the two pair');
    assert.ok(heard.some((t) => t.includes('"p1"')), 'the bus carried the announce');
    assert.ok(!heard.some((t) => t.includes('secret-token')), 'never a session token');
    const answer = b.share.announce(ann('p3'), '10.0.0.3');
    assert.deepEqual(new Set(answer.peers), new Set(['p1', 'p2']), 'a peer announced on the other node is handed out');
  } finally {
    await c.close();
  }
});

test('every node answers a swarm with the leader\'s seeder list; without the store each ranks its own', async () => {
  const hub = createMemoryHub();
  const c = await cluster(hub, 2);
  const { a, b } = c;
  try {
    // 60 peers, each on the node of its parity, with rates that rank them.
    const round = (): void => {
      for (let i = 0; i < 60; i++) (i % 2 === 0 ? a : b).share.announce(ann(`p${i}`, 's', { uploadBytesPerSec: 100_000 + i * 1000, freeLinks: 0 }), `10.0.0.${i}`);
    };
    round();
    assert.ok(await eventually(() => a.tracker.swarmSizes()['s'] === 60 && b.tracker.swarmSizes()['s'] === 60, 2000));
    const leader = c.parts.find((p) => p.node.leader());
    assert.ok(leader, 'one node leads');
    const same = async (): Promise<boolean> => {
      round();
      const x = a.share.announce(ann('p0', 's', { freeLinks: 0 }), '10.0.0.0').seeders;
      const y = b.share.announce(ann('p1', 's', { freeLinks: 0 }), '10.0.0.1').seeders;
      return x.length === 3 && JSON.stringify(x) === JSON.stringify(y);
    };
    assert.ok(await eventually(same, 3000), 'the same list from both nodes');
    hub.down();
    assert.ok(await eventually(() => !a.node.up() && !b.node.up(), 2000));
    // Alone, each node ranks what it still holds; the other node's peers go stale and are pruned.
    await eventually(() => false, 3 * INTERVAL_MS + 100);
    a.share.announce(ann('p0', 's', { freeLinks: 0 }), '10.0.0.0');
    a.tracker.prune();
    const alone = a.share.announce(ann('p2', 's', { freeLinks: 0 }), '10.0.0.2');
    assert.ok(alone.swarmSize <= 2 && alone.seeders.length === 1, `node A ranks its own: ${JSON.stringify(alone)}`);
  } finally {
    hub.up();
    await c.close();
  }
});

test('one address has one budget across nodes; while the store is down each node counts alone', async () => {
  const hub = createMemoryHub();
  const nodes = await Promise.all([0, 1].map(async () => {
    const n = createClusterNode({ store: hub.connect(), log: () => undefined, heldIds: () => [], timing });
    await n.start();
    return n;
  }));
  const shares = nodes.map((n) => createRateShare(n, Date.now, 20));
  try {
    const [la, lb] = shares.map((s) => s.limiter('http', 10, 0.001));
    assert.ok(la && lb);
    for (let i = 0; i < 10; i++) assert.equal(la.allow('203.0.113.7'), true);
    assert.equal(la.allow('203.0.113.7'), false, 'node A: burst spent');
    assert.ok(await eventually(() => !lb.allow('203.0.113.7'), 2000), 'node B charged what node A allowed');
    assert.equal(lb.allow('198.51.100.1'), true, 'another address keeps its own budget');
    hub.down();
    await eventually(() => !nodes[0]?.up(), 1000);
    const [lc, ld] = shares.map((s) => s.limiter('alone', 5, 0.001));
    for (let i = 0; i < 5; i++) assert.equal(lc?.allow('203.0.113.8'), true);
    await eventually(() => false, 100);
    assert.equal(ld?.allow('203.0.113.8'), true, 'nothing shared while down: node B decides alone');
  } finally {
    hub.up();
    for (const s of shares) s.close();
    await Promise.all(nodes.map((n) => n.close()));
  }
});
