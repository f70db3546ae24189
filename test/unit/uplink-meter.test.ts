import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UplinkMeter } from '../../client/swarm/uplink-meter.js';

function fakeClock(start = 50_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** One piece on the wire for `ms` at `bytesPerSec`, then `idleMs` of nothing. */
function send(m: UplinkMeter, clock: { advance: (ms: number) => void }, bytesPerSec: number, ms: number, idleMs = 0): void {
  m.begin();
  clock.advance(ms);
  m.end(Math.round((bytesPerSec * ms) / 1000));
  clock.advance(idleMs);
}

const within = (got: number | undefined, want: number, share: number, what = ''): void => {
  assert.ok(got !== undefined, `${what}: an estimate`);
  assert.ok(Math.abs(got - want) <= share * want, `${what}: ${got} within ${share * 100} % of ${want}`);
};

test('bytes sent while busy at a known rate give that rate, whatever the idle gaps between', () => {
  const rate = 1_250_000; // 10 Mbit/s
  for (const gaps of [[0], [5], [200, 3000, 1], [60_000], [0, 0, 10_000, 17]]) {
    const clock = fakeClock();
    const m = new UplinkMeter(clock.now);
    for (let i = 0; i < 60; i++) send(m, clock, rate, 10 + (i % 7) * 13, gaps[i % gaps.length]!);
    within(m.bytesPerSec, rate, 0.05, `gaps ${gaps.join(',')}`);
  }
});

test('idle time does not age the estimate: the same busy periods give the same number with any gaps', () => {
  const run = (gap: (i: number) => number): number | undefined => {
    const clock = fakeClock();
    const m = new UplinkMeter(clock.now);
    for (let i = 0; i < 40; i++) send(m, clock, i < 20 ? 2_000_000 : 500_000, 50, gap(i));
    return m.bytesPerSec;
  };
  const tight = run(() => 0);
  assert.ok(tight !== undefined);
  for (const gap of [(i: number) => i * 1000, () => 120_000, (i: number) => (i % 2 ? 1 : 30_000)]) {
    const got = run(gap);
    assert.ok(got !== undefined && Math.abs(got - tight) < 1e-6 * tight, `${got} vs ${tight}`);
  }
});

test('overlapping sends are one busy period: bytes of both over the time from the first begin to the last end', () => {
  const clock = fakeClock();
  const m = new UplinkMeter(clock.now);
  m.begin();
  clock.advance(100);
  m.begin();
  clock.advance(100);
  m.end(200_000);
  assert.equal(m.bytesPerSec, undefined, 'still busy: nothing measured yet');
  clock.advance(200);
  m.end(200_000);
  // 400 kB over 400 busy ms.
  within(m.bytesPerSec, 1_000_000, 0.001, 'overlap');
});

test('no estimate before 300 ms of busy time, nor with no bytes', () => {
  const clock = fakeClock();
  const m = new UplinkMeter(clock.now);
  assert.equal(m.bytesPerSec, undefined);
  send(m, clock, 1_000_000, 299, 10_000);
  assert.equal(m.bytesPerSec, undefined, '299 busy ms');
  const short = new UplinkMeter(clock.now);
  for (let i = 0; i < 5; i++) send(short, clock, 1_000_000, 50, 5000);
  assert.equal(short.bytesPerSec, undefined, '250 busy ms in five pieces, however long the wall time');
  const once = new UplinkMeter(clock.now);
  send(once, clock, 1_000_000, 300);
  within(once.bytesPerSec, 1_000_000, 0.001, '300 busy ms');
  const empty = new UplinkMeter(clock.now);
  for (let i = 0; i < 10; i++) send(empty, clock, 0, 100);
  assert.equal(empty.bytesPerSec, undefined, 'sends that all ended with 0 bytes measure nothing');
});

test('an end() with no begin() is ignored', () => {
  const clock = fakeClock();
  const m = new UplinkMeter(clock.now);
  m.end(1_000_000);
  send(m, clock, 500_000, 400);
  m.end(9_999_999);
  within(m.bytesPerSec, 500_000, 0.001, 'stray ends');
});

test('a changed uplink shows after some half-lives of busy time', () => {
  const clock = fakeClock();
  const m = new UplinkMeter(clock.now);
  const fast = 2_000_000;
  const slow = 250_000;
  for (let i = 0; i < 200; i++) send(m, clock, fast, 100, 500); // 20 s busy at the fast rate
  within(m.bytesPerSec, fast, 0.01, 'settled on the first rate');
  const seen: number[] = [];
  for (let i = 0; i < 320; i++) {
    send(m, clock, slow, 100, 500); // 32 s busy at the slow rate: eight half-lives of 4 s
    if (i % 40 === 39) seen.push(m.bytesPerSec!);
  }
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! < seen[i - 1]!, `moves steadily toward the new rate: ${seen.join(', ')}`);
  assert.ok(seen[0]! < 0.8 * fast, `after one half-life it has clearly moved: ${seen[0]}`);
  within(seen[3], slow, 0.5, 'after four half-lives (the old rate, 8x this one, still weighs 1/16)');
  within(seen[7], slow, 0.05, 'after eight half-lives');

  // And back up.
  for (let i = 0; i < 320; i++) send(m, clock, fast, 100);
  within(m.bytesPerSec, fast, 0.05, 'a faster uplink shows too');
});
