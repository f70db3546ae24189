import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { owners } from '../../client/swarm/rendezvous.js';
import type { Swarm } from '../../client/swarm/swarm.js';
import { parsePeerMessage } from '../../protocol/peer.js';
import type { PlaylistUpdate } from '../../protocol/worker.js';
import { LINK as cfg, makeViewer, segBytes, SWARM, url } from '../support/piece-swarm.js';
import { linkSwarms } from '../support/swarm-links.js';

const swarms: Swarm[] = [];
afterEach(() => {
  for (const s of swarms.splice(0)) s.destroy();
});

function viewer(id: string) {
  const refreshes: number[] = [];
  const { swarm } = makeViewer(id, { env: { originFetch: async () => undefined, refreshManifest: () => refreshes.push(Date.now()) } });
  swarms.push(swarm);
  return { id, swarm, refreshes };
}

function playlist(upTo: number): PlaylistUpdate {
  const segments = [];
  for (let s = upTo - 3; s <= upTo; s++) segments.push({ id: url(s), url: url(s), seq: s, durationSec: 2 });
  return { type: 'rc-playlist', swarm: SWARM, targetDurationSec: 2, live: true, integrity: true, segments };
}

test('the page whose playlist shows a segment first tells its peers; only the origin fetcher reads its manifest again', async () => {
  const vs = ['a', 'b', 'c'].map(viewer);
  for (let i = 0; i < vs.length; i++) for (let j = i + 1; j < vs.length; j++) linkSwarms(vs[i]!, vs[j]!, SWARM, cfg);
  await sleep(20);
  for (const v of vs) v.swarm.onPlaylist(playlist(10));
  const owner = owners(['a', 'b', 'c'], url(11), 1)[0];
  const first = vs.find((v) => v.id !== owner)!;
  // `first` refreshes its playlist before everyone else: segment 11 is new to the swarm.
  first.swarm.onPlaylist(playlist(11));
  await sleep(20);
  for (const v of vs) assert.deepEqual(v.refreshes.length, v.id === owner ? 1 : 0, `${v.id} read its manifest again`);
});

test('a notice far ahead, an old one or a repeated one reads nothing', async () => {
  const [a, b] = ['a', 'b'].map(viewer) as [ReturnType<typeof viewer>, ReturnType<typeof viewer>];
  linkSwarms(a, b, SWARM, cfg);
  await sleep(20);
  a.swarm.onPlaylist(playlist(10));
  const self = (id: string) => owners(['a', 'b'], id, 1)[0] === 'a';
  const link = b.swarm.links.get('a')!;
  // Sequence numbers whose owner is `a`, so only the bounds can keep it from refreshing.
  const next = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20].filter((s) => self(url(s)));
  const far = next.find((s) => s > 12);
  assert.ok(far !== undefined);
  a.swarm.onFresh(link, [{ id: url(far), seq: far }]);
  a.swarm.onFresh(link, [{ id: url(9), seq: 9 }]);
  assert.equal(a.refreshes.length, 0, 'too far ahead or already known');
  const near = next.find((s) => s <= 12);
  assert.ok(near !== undefined, 'the hash gives `a` one of the next two');
  a.swarm.onFresh(link, [{ id: url(near), seq: near }]);
  a.swarm.onFresh(link, [{ id: url(near), seq: near }]);
  assert.equal(a.refreshes.length, 1, 'once per sequence number');
});

test('fresh notices parse strictly', () => {
  assert.deepEqual(parsePeerMessage('{"type":"fresh","segments":[{"id":"http://x/a.ts","seq":3}]}'), {
    ok: true,
    value: { type: 'fresh', segments: [{ id: 'http://x/a.ts', seq: 3 }] },
  });
  for (const bad of ['{"type":"fresh","segments":[{"id":"a b","seq":3}]}', '{"type":"fresh","segments":[{"id":"a","seq":-1}]}', '{"type":"fresh"}']) {
    assert.equal(parsePeerMessage(bad).ok, false, bad);
  }
});

test('a small swarm picks owners in the mesh even while some links are not ready; only a large one uses the seeders', async () => {
  const [a, b] = ['a', 'b'].map(viewer) as [ReturnType<typeof viewer>, ReturnType<typeof viewer>];
  linkSwarms(a, b, SWARM, cfg);
  await sleep(20);
  // Three viewers at the tracker, one of them ('z', the seeder) not linked to `a` yet.
  a.swarm.setSwarmView(['z'], 1, 3);
  for (let s = 0; s < 20; s++) assert.ok(['a', 'b'].includes(a.swarm.originFetchersFor(url(s))[0] ?? ''), 'a mesh member, never the unlinked seeder');
  a.swarm.setSwarmView(['z'], 1, 40);
  assert.deepEqual(a.swarm.originFetchersFor(url(1)), ['z'], 'past maxPeers + 1 viewers: the seeders');
});

test('a large swarm follows a new seeder list at once (owners are remembered per segment only for one list)', async () => {
  const [a, b] = ['a', 'b'].map(viewer) as [ReturnType<typeof viewer>, ReturnType<typeof viewer>];
  linkSwarms(a, b, SWARM, cfg);
  await sleep(20);
  a.swarm.setSwarmView(['z', 'y', 'x'], 2, 40);
  for (let s = 0; s < 5; s++) assert.deepEqual(a.swarm.originFetchersFor(url(s)), owners(['z', 'y', 'x'], url(s), 2));
  a.swarm.setSwarmView(['w', 'v', 'a'], 1, 40);
  for (let s = 0; s < 5; s++) assert.deepEqual(a.swarm.originFetchersFor(url(s)), owners(['w', 'v', 'a'], url(s), 1), 'the new list');
});

test('a live page forgets what a peer announced once the segments leave the live window', async () => {
  const [a, b] = ['a', 'b'].map(viewer) as [ReturnType<typeof viewer>, ReturnType<typeof viewer>];
  linkSwarms(a, b, SWARM, cfg);
  await sleep(20);
  a.swarm.onPlaylist(playlist(12));
  b.swarm.onPlaylist(playlist(12));
  for (let s = 3; s <= 12; s++) b.swarm.onOriginCopy(url(s), s, segBytes(s));
  await sleep(20);
  const heard = (): number[] => [...a.swarm.links.get('b')!.remoteHas.values()].map((h) => h.seq);
  assert.deepEqual(heard(), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  // keepSegments is 10: at newest 16 every store has dropped 3..5.
  a.swarm.onPlaylist(playlist(16));
  assert.deepEqual(heard(), [6, 7, 8, 9, 10, 11, 12]);
});
