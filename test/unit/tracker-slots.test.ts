import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseSeeders } from '../../origin-adapter/seeders.js';
import { createTracker, trackerConfig } from '../../origin-adapter/tracker.js';
import { parseTrackerAnnounce, type TrackerAnnounce } from '../../protocol/tracker.js';

function makeTracker() {
  let t = 1_000_000;
  let r = 0;
  // A deterministic "random" walk over the swarm.
  const random = () => ((r = (r * 9301 + 49297) % 233280) / 233280);
  const tracker = createTracker(trackerConfig({ announceIntervalMs: 3000, p2p: true }, () => t, random));
  return { tracker, advance: (ms: number) => (t += ms) };
}

const ann = (peerId: string, over: Partial<TrackerAnnounce> = {}): TrackerAnnounce => ({ type: 'announce', swarm: 's', peerId, uploads: true, ...over });

test('announce fields token and received: optional, strict, bounded; uploads a boolean or absent', () => {
  const base = { type: 'announce', swarm: 's', peerId: 'p' };
  const token = 'a'.repeat(32);
  const received = [{ peer: 'q', bytesPerSec: 5000 }];
  assert.deepEqual(parseTrackerAnnounce({ ...base, token, received }), { ok: true, value: { ...base, uploads: true, token, received } });
  for (const bad of [
    { uploads: 'yes' }, { uploads: 1 }, { uploads: null },
    { token: 'short' }, { token: 'x'.repeat(129) }, { token: 'a b'.repeat(8) }, { token: 5 },
    { received: {} }, { received: [{ peer: 'q' }] }, { received: [{ peer: 'q', bytesPerSec: -1 }] }, { received: [{ peer: 'a b', bytesPerSec: 1 }] },
    { received: Array.from({ length: 9 }, (_, i) => ({ peer: `q${i}`, bytesPerSec: 1 })) },
    { received: [{ peer: 'q', bytesPerSec: 1 }, { peer: 'q', bytesPerSec: 2 }] },
  ]) {
    assert.equal(parseTrackerAnnounce({ ...base, ...bad }).ok, false, JSON.stringify(bad));
  }
  assert.deepEqual(parseTrackerAnnounce({ ...base, uploads: false }), { ok: true, value: { ...base, uploads: false } });
});

test('announce fields freeLinks and uploadBytesPerSec: optional, strict, bounded', () => {
  const base = { type: 'announce', swarm: 's', peerId: 'p' };
  assert.deepEqual(parseTrackerAnnounce(base), { ok: true, value: { ...base, uploads: true } });
  const full = parseTrackerAnnounce({ ...base, freeLinks: 3, uploadBytesPerSec: 1_000_000 });
  assert.ok(full.ok && full.value.freeLinks === 3 && full.value.uploadBytesPerSec === 1_000_000);
  for (const bad of [{ freeLinks: -1 }, { freeLinks: 1.5 }, { freeLinks: '3' }, { freeLinks: 1e6 }, { uploadBytesPerSec: -5 }, { uploadBytesPerSec: 2e9 }, { uploadBytesPerSec: null }]) {
    assert.equal(parseTrackerAnnounce({ ...base, ...bad }).ok, false, JSON.stringify(bad));
  }
});

test('a large swarm: only peers with free slots are handed out, each at most as often as it has slots', () => {
  const { tracker } = makeTracker();
  for (let i = 0; i < 100; i++) tracker.announce(ann(`full${i}`, { freeLinks: 0 }));
  tracker.announce(ann('open', { freeLinks: 2 }));
  const handed: string[] = [];
  for (let k = 0; k < 10; k++) {
    // Requesters with few free slots (not newcomers): free-slot peers only.
    const peers = tracker.announce(ann(`asker${k}`, { freeLinks: 2 })).answer.peers;
    for (const p of peers) assert.ok(!p.startsWith('full'), `${p} has no free slot`);
    handed.push(...peers.filter((p) => p === 'open'));
  }
  // The askers report 2 free slots each, so they are open too; 'open' itself went out twice at most.
  assert.equal(handed.length, 2, "'open' reported 2 free slots: handed out twice, until it announces again");
  tracker.announce(ann('open', { freeLinks: 1 }));
  const again = tracker.announce(ann('late', { freeLinks: 2 })).answer.peers;
  assert.ok(again.length <= 2);
});

test('the answer holds no more peers than the requester has free slots; a newcomer also gets a few full peers', () => {
  const { tracker } = makeTracker();
  for (let i = 0; i < 100; i++) tracker.announce(ann(`full${i}`, { freeLinks: 0 }));
  for (let i = 0; i < 20; i++) tracker.announce(ann(`open${i}`, { freeLinks: 12 }));
  assert.equal(tracker.announce(ann('busy', { freeLinks: 0 })).answer.peers.length, 0);
  assert.equal(tracker.announce(ann('one', { freeLinks: 1 })).answer.peers.length, 1);
  let full = 0;
  for (let k = 0; k < 10; k++) {
    const peers = tracker.announce(ann(`new${k}`, { freeLinks: 12 })).answer.peers;
    assert.ok(peers.length <= 12);
    full += peers.filter((p) => p.startsWith('full')).length;
  }
  assert.ok(full > 0 && full <= 30, `newcomers got some full peers (at most 3 each): ${full}`);
});

test('seeders: the fastest uploaders; a seeder far below the median is replaced, others kept', () => {
  const c = (id: string, rate: number | undefined, eligible = true) => ({ id, eligible, rate });
  assert.deepEqual(chooseSeeders([c('a', undefined), c('b', undefined), c('c', undefined)], [], 2), ['a', 'b'], 'no rates: join order');
  assert.deepEqual(chooseSeeders([c('a', 10), c('b', 300), c('c', 200), c('d', 250)], [], 2), ['b', 'd'], 'fastest first');
  assert.deepEqual(chooseSeeders([c('a', 10), c('b', 300), c('c', 200), c('d', 250)], ['a', 'c'], 2), ['c', 'b'], 'slow seeder a (< half the median) replaced, c kept');
  assert.deepEqual(chooseSeeders([c('a', 300, false), c('b', 100), c('c', 100)], ['a'], 1), ['b'], 'a seeder that left or stopped uploading is replaced');
});

test('the tracker picks seeders from reported upload rates', () => {
  const { tracker, advance } = makeTracker();
  for (let i = 0; i < 80; i++) tracker.announce(ann(`p${i}`, { freeLinks: 0 }));
  assert.deepEqual(tracker.announce(ann('p0', { freeLinks: 0 })).answer.seeders, ['p0', 'p1', 'p2', 'p3'], 'before any rate: longest present');
  advance(3000);
  for (let i = 0; i < 80; i++) tracker.announce(ann(`p${i}`, { freeLinks: 0, uploadBytesPerSec: i === 0 ? 1000 : i >= 70 ? 900_000 : 300_000 }));
  advance(3000);
  const { seeders, fetchersPerSegment } = tracker.announce(ann('p5', { freeLinks: 0, uploadBytesPerSec: 300_000 })).answer;
  assert.equal(seeders.length, 4);
  assert.ok(!seeders.includes('p0'), 'p0 uploads far less than the median: replaced');
  assert.ok(seeders.includes('p1'), 'p1 is fast enough: kept');
  assert.ok(seeders.includes('p4'), 'unconfirmed claims count only up to the median: the free place goes by join order');
  assert.equal(fetchersPerSegment, 2, 'one per 50 viewers');
});

test('the tracker gives a free seeder place to a fast uploader that other pages confirm', () => {
  const { tracker, advance } = makeTracker();
  for (let i = 0; i < 80; i++) tracker.announce(ann(`p${i}`, { freeLinks: 0 }));
  tracker.announce(ann('p0', { freeLinks: 0 }));
  advance(3000);
  const confirm = [{ peer: 'p75', bytesPerSec: 400_000 }];
  for (let i = 0; i < 80; i++) {
    tracker.announce(ann(`p${i}`, { freeLinks: 0, uploadBytesPerSec: i === 0 ? 1000 : i >= 70 ? 900_000 : 300_000, ...(i >= 20 && i < 23 ? { received: confirm } : {}) }), `10.0.0.${i}`);
  }
  advance(3000);
  const { seeders } = tracker.announce(ann('p5', { freeLinks: 0, uploadBytesPerSec: 300_000 }), '10.0.0.5').answer;
  assert.ok(!seeders.includes('p0'));
  assert.ok(seeders.includes('p75'), `confirmed by three pages: ${seeders.join(',')}`);
});
