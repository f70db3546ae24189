import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeResult, type Tick } from '../../e2e/load/metrics.js';
import type { ProbeSample } from '../../e2e/support/page-probe.js';

/** A playing viewer's probe sample at page time `pageSec`. */
function sample(pageSec: number, currentTime: number, stalledSec = 0): ProbeSample {
  return {
    segmentBytes: 1000 * pageSec,
    stalls: stalledSec > 0 ? 1 : 0,
    stalledSec,
    playing: true,
    currentTime,
    pageSec,
    stallLog: [],
    slowLog: [],
    longTaskSec: 0,
    firstPlayingSec: 1,
    latencySec: 6,
    controlled: false,
    relaycast: null,
    errors: [],
    hashes: [],
  };
}

/**
 * Ticks every 5 s for 100 s: viewer 0's media clock keeps time; viewer 1's runs 2 % slow; viewer 2's
 * runs 2 % slow too, but it stalls for 4 s, during which its player seeks 10 s ahead (neither a
 * stall nor a seek is a slow clock); viewer 3's keeps time and its player seeks 8 s ahead without a stall.
 */
function ticks(): Tick[] {
  const out: Tick[] = [];
  for (let t = 0; t <= 100; t += 5) {
    const stalled = t >= 60 ? 4 : 0;
    const sought = t >= 60 ? 10 : 0;
    out.push({
      tSec: t,
      cpuBusy: 0.5,
      originSegmentBytes: 100 * t,
      viewers: [
        { id: 0, role: 'honest', openedSec: 0, present: true, sample: sample(t, t) },
        { id: 1, role: 'honest', openedSec: 0, present: true, sample: sample(t, 0.98 * t) },
        { id: 2, role: 'honest', openedSec: 0, present: true, sample: sample(t, 0.98 * (t - stalled) + sought, stalled) },
        { id: 3, role: 'honest', openedSec: 0, present: true, sample: sample(t, t >= 40 ? t + 8 : t) },
      ],
    });
  }
  return out;
}

test('the media clock rate is playhead advance over page time while playing, without stalls and seeks, per viewer and as a median', () => {
  const r = computeResult(ticks(), {
    viewers: 4,
    durationSec: 100,
    p2p: false,
    warmupSec: 10,
    lastOpenedSec: 0,
    errors: [],
    integrity: { checked: 0, corrupted: 0, unknown: 0 },
    faults: { malicious: 0, churnPct: 0, signalOutageSec: 0, slowPeers: 0 },
  });
  assert.deepEqual(
    r.perViewer.map((v) => v.mediaClockRate),
    [1, 0.98, 0.98, 1],
  );
  assert.equal(r.mediaClockRate, 0.99);
});

test('per viewer: the player it ran and its own share of the integrity counts', () => {
  const t = ticks().map((x) => ({ ...x, viewers: x.viewers.map((v) => ({ ...v, player: v.id % 2 === 0 ? 'shaka' : 'hls.js' })) }));
  const r = computeResult(t, {
    viewers: 4,
    durationSec: 100,
    p2p: true,
    warmupSec: 10,
    lastOpenedSec: 0,
    errors: [],
    integrity: { checked: 7, corrupted: 1, unknown: 0 },
    integrityOf: new Map([
      [0, { checked: 4, corrupted: 0, unknown: 0 }],
      [2, { checked: 3, corrupted: 1, unknown: 0 }],
    ]),
    faults: { malicious: 0, churnPct: 0, signalOutageSec: 0, slowPeers: 0 },
  });
  assert.deepEqual(r.perViewer.map((v) => v.player), ['shaka', 'hls.js', 'shaka', 'hls.js']);
  assert.deepEqual(r.perViewer.map((v) => [v.segmentsChecked, v.corruptedDelivered]), [[4, 0], [0, 0], [3, 1], [0, 0]]);
  assert.equal(r.segmentsChecked, 7);
  assert.equal(r.corruptedDelivered, 1);
});
