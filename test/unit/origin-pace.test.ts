import assert from 'node:assert/strict';
import test from 'node:test';
import { OriginPace } from '../../client/core/origin-pace.js';
import { mediaBufferMs, peerDeadlineMs, type MediaLike } from '../../client/core/deadline.js';
import { parseWorkerToPage } from '../../protocol/worker.js';

function playing(aheadSec: number): MediaLike {
  return { currentTime: 10, playbackRate: 1, paused: false, readyState: 4, buffered: { length: 1, start: () => 0, end: () => 10 + aheadSec } };
}

test('origin pace: the base margin while the origin answers fast', () => {
  const p = new OriginPace(7500);
  assert.equal(p.marginMs(1500, 0), 1500);
  p.record(80, 1000);
  p.record(200, 2000);
  assert.equal(p.marginMs(1500, 3000), 1500);
});

test('origin pace: slow origin round trips widen the margin, so a peer is waited for less', () => {
  const p = new OriginPace(7500);
  p.record(2500, 1000);
  assert.equal(p.marginMs(1500, 2000), 5000);
  const media = [playing(6)];
  const fast = peerDeadlineMs(mediaBufferMs(media), { safetyMarginMs: 1500, maxPeerWaitMs: 6000 }, 6000);
  const slow = peerDeadlineMs(mediaBufferMs(media), { safetyMarginMs: p.marginMs(1500, 2000), maxPeerWaitMs: 6000 }, 6000);
  assert.equal(fast, 4500);
  assert.equal(slow, 1000);
  // A starved machine: the origin at once.
  p.record(4000, 2500);
  assert.equal(peerDeadlineMs(mediaBufferMs(media), { safetyMarginMs: p.marginMs(1500, 3000), maxPeerWaitMs: 6000 }, 6000), 0);
});

test('origin pace: the margin is capped, old samples are forgotten, bad samples dropped', () => {
  const p = new OriginPace(7500);
  p.record(60_000, 0);
  assert.equal(p.marginMs(1500, 1000), 7500);
  assert.equal(p.marginMs(1500, 31_000), 1500);
  p.record(Number.NaN, 32_000);
  p.record(-5, 32_000);
  assert.equal(p.marginMs(1500, 33_000), 1500);
});

test('rc-fetched carries the worker fallback time; a bad one is refused', () => {
  const bytes = new ArrayBuffer(4);
  const base = { type: 'rc-fetched', swarm: 's', id: 'http://o.test/a.m4s', seq: 3, bytes };
  const r = parseWorkerToPage({ ...base, fetchMs: 1234 });
  assert.ok(r.ok && r.value.type === 'rc-fetched' && r.value.fetchMs === 1234);
  const old = parseWorkerToPage(base);
  assert.ok(old.ok && old.value.type === 'rc-fetched' && old.value.fetchMs === undefined);
  for (const fetchMs of [-1, 'x', 1.5e9, Number.NaN]) assert.equal(parseWorkerToPage({ ...base, fetchMs }).ok, false, String(fetchMs));
});

test('lag monitor: reports timers run late, not ordinary jitter', async () => {
  const { watchLag } = await import('../../client/page/lag-monitor.js');
  let now = 0;
  let tick: (() => void) | undefined;
  let cleared = false;
  const lags: number[] = [];
  const stop = watchLag((ms) => lags.push(ms), {
    now: () => now,
    setInterval: (f) => (tick = f),
    clearInterval: () => (cleared = true),
  });
  now = 260;
  tick?.();
  now = 1510; // due at 510: 1 s late
  tick?.();
  assert.deepEqual(lags, [1000]);
  stop();
  assert.ok(cleared);
});
