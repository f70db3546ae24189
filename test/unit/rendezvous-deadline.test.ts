import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bufferAheadSec, mediaBufferMs, peerDeadlineMs, type MediaLike } from '../../client/core/deadline.js';
import { owners } from '../../client/swarm/rendezvous.js';

test('rendezvous owners agree regardless of member order and spread the load', () => {
  const members = ['a', 'b', 'c', 'd'];
  const counts = new Map<string, number>();
  for (let i = 0; i < 4000; i++) {
    const key = `http://x/seg_${i}.ts`;
    const o = owners(members, key, 1)[0] ?? '';
    assert.equal(owners([...members].reverse(), key, 1)[0], o);
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  for (const m of members) assert.ok((counts.get(m) ?? 0) > 800, `${m} owns a fair share`);
});

test('removing a member only moves its own segments', () => {
  let moved = 0;
  for (let i = 0; i < 1000; i++) {
    const key = `k${i}`;
    const before = owners(['a', 'b', 'c', 'd'], key, 1)[0];
    const after = owners(['a', 'b', 'c'], key, 1)[0];
    if (before !== 'd') assert.equal(after, before);
    else moved++;
  }
  assert.ok(moved > 0);
});

const media = (currentTime: number, ranges: [number, number][], paused = false): MediaLike => ({
  currentTime,
  playbackRate: 1,
  paused,
  readyState: 4,
  buffered: { length: ranges.length, start: (i) => ranges[i]![0], end: (i) => ranges[i]![1] },
});

test('deadline: buffer ahead minus margin, capped, zero at startup', () => {
  const cfg = { safetyMarginMs: 1500, maxPeerWaitMs: 6000 };
  assert.equal(bufferAheadSec([media(10, [[0, 5], [8, 16]])]), 6);
  assert.equal(peerDeadlineMs(mediaBufferMs([media(10, [[8, 16]])]), cfg, 10_000), 4500);
  assert.equal(peerDeadlineMs(mediaBufferMs([media(10, [[8, 30]])]), cfg, 10_000), 6000);
  assert.equal(peerDeadlineMs(mediaBufferMs([media(10, [[8, 30]])]), cfg, 2000), 2000);
  assert.equal(peerDeadlineMs(mediaBufferMs([]), cfg, 10_000), 0, 'no media: go to the origin at once');
  assert.equal(peerDeadlineMs(mediaBufferMs([media(0, [])]), cfg, 10_000), 0, 'empty buffer (startup): origin at once');
  assert.equal(peerDeadlineMs(mediaBufferMs([media(10, [[8, 11]])]), cfg, 10_000), 0, 'less than the margin: origin at once');
});
