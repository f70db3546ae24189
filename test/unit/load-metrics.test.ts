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
 * Ticks every 5 s for 100 s: viewer 0's media clock keeps time, viewer 1's runs 2 % slow, viewer 2
 * keeps time but stalls 4 s in the middle (a stall is not a slow clock).
 */
function ticks(): Tick[] {
  const out: Tick[] = [];
  for (let t = 0; t <= 100; t += 5) {
    const stalled = t >= 60 ? 4 : 0;
    out.push({
      tSec: t,
      cpuBusy: 0.5,
      originSegmentBytes: 100 * t,
      viewers: [
        { id: 0, role: 'honest', openedSec: 0, present: true, sample: sample(t, t) },
        { id: 1, role: 'honest', openedSec: 0, present: true, sample: sample(t, 0.98 * t) },
        { id: 2, role: 'honest', openedSec: 0, present: true, sample: sample(t, t - stalled, stalled) },
      ],
    });
  }
  return out;
}

test('the media clock rate is playhead advance over page time less stalls, per viewer and as a median', () => {
  const r = computeResult(ticks(), {
    viewers: 3,
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
    [1, 0.98, 1],
  );
  assert.equal(r.mediaClockRate, 1);
});
