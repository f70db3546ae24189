import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PeerLink } from '../../client/transport/peer-link.js';
import { emptyStats } from '../../client/core/stats.js';
import { SegmentStore } from '../../client/storage/store.js';
import { Swarm } from '../../client/swarm/swarm.js';
import { linkSwarms } from '../support/swarm-links.js';

const SWARM = 'http://origin.test/live/index.m3u8';
const cfg = { originFetchers: 1, maxUploadsTotal: 8, maxUploadsPerPeer: 2, sendHighWaterBytes: 1 << 20 };
const ID = 'http://origin.test/live/seg_1.ts';
const bytes = new Uint8Array(200_000).fill(7);

const swarms: Swarm[] = [];
afterEach(() => {
  for (const s of swarms.splice(0)) s.destroy();
});

function viewer(id: string, uploads = true) {
  const stats = emptyStats();
  const links = (): PeerLink[] => [...swarm.links.values()];
  let maxConcurrent = 0;
  const swarm = new Swarm(SWARM, cfg, new SegmentStore({ maxBytes: 1 << 26, keepSegments: 10 }), {
    selfId: () => id,
    originFetch: async () => undefined,
    stats,
    uploadsInFlight: () => {
      const n = links().reduce((k, l) => k + l.activeUploads, 0);
      maxConcurrent = Math.max(maxConcurrent, n);
      return n;
    },
    verify: async () => 'ok',
    onBadPeer: () => undefined,
    uploadAllowed: () => uploads,
    // Each frame takes a while to leave, like an uplink: uploads overlap unless the page serializes them.
    throttle: () => sleep(5),
  });
  swarms.push(swarm);
  return { id, swarm, stats, maxConcurrent: () => maxConcurrent };
}

function connect(x: ReturnType<typeof viewer>, y: ReturnType<typeof viewer>): void {
  linkSwarms(x, y, SWARM, cfg);
}

test('a holder sends one copy at a time; a requester told busy keeps the holder and gets the copy after a pause', async () => {
  const holder = viewer('h');
  const askers = ['a', 'b', 'c'].map((id) => viewer(id));
  for (const v of askers) connect(v, holder);
  await sleep(20);
  holder.swarm.onOriginCopy(ID, 1, bytes);
  await sleep(20);
  // All three ask at once, with a deadline long enough for three copies one after another.
  const results = await Promise.all(askers.map((v) => v.swarm.get(ID, 1, 3000)));
  for (const r of results) assert.ok(r.hit);
  assert.equal(holder.maxConcurrent(), 1, 'never two uploads at once');
  assert.equal(holder.stats.uploadedBytes, 3 * bytes.byteLength);
});

test('a busy answer is not a failure: no strike, no cancel, the announcement is kept', async () => {
  const holder = viewer('h');
  const x = viewer('x');
  const y = viewer('y');
  connect(x, holder);
  connect(y, holder);
  await sleep(20);
  holder.swarm.onOriginCopy(ID, 1, bytes);
  await sleep(20);
  const lx = x.swarm.links.get('h')!;
  const ly = y.swarm.links.get('h')!;
  const first = lx.pull(ID, 3000, bytes.byteLength);
  await sleep(1);
  const second = await ly.pull(ID, 3000, bytes.byteLength);
  assert.deepEqual(second, { ok: false, reason: 'busy' });
  assert.ok(ly.recentlyBusy);
  assert.ok(ly.remoteHas.has(ID), 'the holder still has it');
  assert.equal(ly.failing, false);
  assert.ok((await first).ok);
});

test('a new copy is announced to every peer except those that announced it themselves', async () => {
  const src = viewer('s');
  const mid = viewer('m');
  const other = viewer('o');
  connect(mid, src);
  connect(mid, other);
  await sleep(20);
  src.swarm.onOriginCopy(ID, 1, bytes);
  await sleep(20);
  const r = await mid.swarm.get(ID, 1, 2000);
  assert.ok(r.hit);
  await sleep(20);
  assert.ok(other.swarm.links.get('m')?.remoteHas.has(ID), 'announced to a peer without it');
  assert.equal(src.swarm.links.get('m')?.remoteHas.has(ID), false, 'not announced back to the peer it came from');
});
