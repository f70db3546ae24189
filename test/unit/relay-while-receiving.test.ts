import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GrowingCopy } from '../../client/swarm/growing-copy.js';
import { emptyStats } from '../../client/core/stats.js';
import { SegmentStore } from '../../client/storage/store.js';
import { Swarm } from '../../client/swarm/swarm.js';
import type { Verdict } from '../../client/core/integrity.js';
import type { PlaylistUpdate } from '../../protocol/worker.js';
import { linkSwarms } from '../support/swarm-links.js';

const SWARM = 'http://origin.test/live/index.m3u8';
const cfg = { originFetchers: 1, maxUploadsTotal: 8, maxUploadsPerPeer: 2, sendHighWaterBytes: 1 << 20 };
const ID = 'http://origin.test/live/seg_1.ts';
/** Four frames of 64 KiB. */
const BYTES = new Uint8Array(250_000).map((_, i) => (i * 7) & 0xff);

const swarms: Swarm[] = [];
afterEach(() => {
  for (const s of swarms.splice(0)) s.destroy();
});

interface TestViewer {
  readonly id: string;
  readonly swarm: Swarm;
  readonly stats: ReturnType<typeof emptyStats>;
  readonly bans: string[];
  /** What each upload was served from: 'whole' (stored copy) or 'growing' (still arriving). */
  readonly served: string[];
}

function viewer(id: string, opts: { verify?: Verdict; frameDelayMs?: number; relay?: boolean; slowFloor?: number } = {}): TestViewer {
  const stats = emptyStats();
  const bans: string[] = [];
  const served: string[] = [];
  const swarm: Swarm = new Swarm(SWARM, { ...cfg, relayWhileReceiving: opts.relay ?? true }, new SegmentStore({ maxBytes: 1 << 26, keepSegments: 10 }), {
    selfId: () => id,
    // Nobody here is an origin fetcher that can reach the origin: copies come from `a` only.
    originFetch: async () => undefined,
    stats,
    uploadsInFlight: () => [...swarm.links.values()].reduce((k, l) => k + l.activeUploads, 0),
    verify: async () => opts.verify ?? 'ok',
    onBadPeer: (peerId) => {
      bans.push(peerId);
      swarm.links.get(peerId)?.close('banned');
    },
    uploadAllowed: () => true,
    // Each frame takes this long to leave: an uplink, so a copy takes several turns to arrive.
    throttle: () => sleep(opts.frameDelayMs ?? 0),
    ...(opts.slowFloor !== undefined ? { slowFloorBytesPerSec: opts.slowFloor } : {}),
  });
  const serve = swarm.serve.bind(swarm);
  swarm.serve = (link, sid) => {
    const r = serve(link, sid);
    if (typeof r !== 'string') served.push(r instanceof Uint8Array ? 'whole' : 'growing');
    return r;
  };
  swarms.push(swarm);
  return { id, swarm, stats, bans, served };
}

function playlist(durationSec = 2): PlaylistUpdate {
  return { type: 'rc-playlist', swarm: SWARM, targetDurationSec: 2, live: true, integrity: true, segments: [{ id: ID, url: ID, seq: 1, durationSec }] };
}

/** a (has the copy, slow uplink) — b — c (linked to b only). */
async function chain(b: TestViewer, c: TestViewer): Promise<TestViewer> {
  const a = viewer('a', { frameDelayMs: 30 });
  linkSwarms(a, b, SWARM, cfg);
  linkSwarms(b, c, SWARM, cfg);
  await sleep(20);
  b.swarm.onPlaylist(playlist());
  c.swarm.onPlaylist(playlist());
  await sleep(20);
  a.swarm.onOriginCopy(ID, 1, BYTES);
  return a;
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(5);
}

test('a growing copy releases its last byte only once verified; a failed one wakes its senders', async () => {
  const g = new GrowingCopy(new Uint8Array(10), 1);
  assert.equal(g.sendable(), 0);
  g.progress(4);
  assert.equal(g.sendable(), 4);
  g.progress(10);
  assert.equal(g.sendable(), 9, 'all bytes arrived, but not verified: the last one is held back');
  let woke = false;
  const waiting = g.next().then(() => (woke = true));
  g.complete();
  await waiting;
  assert.ok(woke);
  assert.equal(g.sendable(), 10);
  const f = new GrowingCopy(new Uint8Array(10), 1);
  const waitingF = f.next();
  f.fail();
  await waitingF;
  assert.equal(f.failed, true);
  f.complete();
  assert.equal(f.failed, true, 'a failed copy stays failed');
});

test('a peer relays a copy while it is still arriving: the next hop starts before the copy is complete', async () => {
  const b = viewer('b');
  const c = viewer('c');
  await chain(b, c);
  await until(() => c.stats.peerBytes > 0);
  assert.deepEqual(b.served, ['growing'], 'b served c from the copy still arriving from a');
  assert.equal(c.stats.peerBytes, BYTES.byteLength);
  const r = await c.swarm.get(ID, 1, 0);
  assert.ok(r.hit && Buffer.from(r.bytes).equals(Buffer.from(BYTES)), 'c holds exactly the origin bytes');
  assert.deepEqual(c.bans, []);
});

test('with relayWhileReceiving off, the next hop waits for the whole copy', async () => {
  const b = viewer('b', { relay: false });
  const c = viewer('c', { relay: false });
  await chain(b, c);
  await until(() => c.stats.peerBytes > 0);
  assert.deepEqual(b.served, ['whole']);
});

test('a relayed copy that fails verification never completes downstream, and the relay is not blamed', async () => {
  const b = viewer('b', { verify: 'mismatch' });
  const c = viewer('c');
  await chain(b, c);
  await until(() => b.bans.length > 0);
  await sleep(100);
  assert.deepEqual(b.bans, ['a'], 'b bans the sender of the bad bytes');
  assert.deepEqual(b.served, ['growing'], 'c was being served while the copy arrived');
  assert.equal(c.stats.peerBytes, 0, 'c never got a whole copy');
  const r = await c.swarm.get(ID, 1, 0);
  assert.equal(r.hit, false);
  assert.deepEqual(c.bans, [], 'c does not ban b, which stopped before the last byte');
  assert.ok(c.swarm.links.get('b')?.isReady, 'and keeps its link to b');
});

test('a pull slower than the stream needs is cut short; the peer is known slow and another holder serves', async () => {
  const b = viewer('b');
  // 64 KiB every 400 ms: 160 kB/s, less than twice this stream's 125 kB/s.
  const slow = viewer('slow', { frameDelayMs: 400 });
  const fast = viewer('fast');
  linkSwarms(slow, b, SWARM, cfg);
  linkSwarms(fast, b, SWARM, cfg);
  await sleep(20);
  b.swarm.onPlaylist(playlist());
  await sleep(20);
  slow.swarm.onOriginCopy(ID, 1, BYTES);
  await until(() => slow.served.length > 0);
  fast.swarm.onOriginCopy(ID, 1, BYTES);
  await until(() => b.stats.peerBytes > 0, 4000);
  const rate = b.swarm.links.get('slow')?.throughput;
  assert.ok(rate !== undefined && rate < 250_000, `the slow peer's measured rate (${rate}) marks it slow`);
  assert.deepEqual(fast.served, ['whole'], 'the fast holder served the copy');
  const r = await b.swarm.get(ID, 1, 0);
  assert.ok(r.hit && Buffer.from(r.bytes).equals(Buffer.from(BYTES)));
});

test('a player request drops a background pull that cannot finish in time and asks another holder', async () => {
  const b = viewer('b');
  // Its first frame would leave after 5 s: the background pull from it is stuck.
  const stuck = viewer('stuck', { frameDelayMs: 5000 });
  const fast = viewer('fast');
  linkSwarms(stuck, b, SWARM, cfg);
  linkSwarms(fast, b, SWARM, cfg);
  await sleep(20);
  b.swarm.onPlaylist(playlist());
  await sleep(20);
  stuck.swarm.onOriginCopy(ID, 1, BYTES);
  await until(() => stuck.served.length > 0);
  fast.swarm.onOriginCopy(ID, 1, BYTES);
  await sleep(20);
  assert.deepEqual(fast.served, [], 'b is busy with the stuck pull');
  // Without the check the request would wait on the stuck pull (its timeout is 8 s) and miss.
  const r = await b.swarm.get(ID, 1, 1800);
  assert.ok(r.hit && Buffer.from(r.bytes).equals(Buffer.from(BYTES)), `hit (${r.steps.join(' ')})`);
  assert.ok(r.steps.some((s) => s.startsWith('drop:stuc')), r.steps.join(' '));
  assert.deepEqual(fast.served, ['whole']);
});

for (const [floor, cut] of [[undefined, true], [20_000, false]] as const) {
  test(`slow-peer floor ${floor ?? 'default (50,000 B/s)'}: a 40 kB/s pull of a low-bitrate stream is ${cut ? 'cut short' : 'kept'}`, async () => {
    const b = viewer('b', floor === undefined ? {} : { slowFloor: floor });
    // 64 KiB every 1.6 s: about 40 kB/s, far above twice this stream's 1 kB/s (250 kB per 240 s),
    // so only the floor can call it slow.
    const slow = viewer('slow', { frameDelayMs: 1600 });
    const fast = viewer('fast');
    linkSwarms(slow, b, SWARM, cfg);
    linkSwarms(fast, b, SWARM, cfg);
    await sleep(20);
    b.swarm.onPlaylist(playlist(240));
    await sleep(20);
    slow.swarm.onOriginCopy(ID, 1, BYTES);
    await until(() => slow.served.length > 0);
    fast.swarm.onOriginCopy(ID, 1, BYTES);
    await until(() => fast.served.length > 0, 2500);
    assert.deepEqual(fast.served, cut ? ['whole'] : [], cut ? 'the pull from the slow peer was cut and the fast holder served' : 'b kept pulling from the slow peer');
  });
}
