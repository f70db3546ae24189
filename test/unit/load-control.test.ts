import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeResult, type LoadResult, type Tick } from '../../e2e/load/metrics.js';
import { assertNoWorseThanControl, assertStallsWithinControl } from '../../e2e/support/control.js';
import type { ProbeSample } from '../../e2e/support/page-probe.js';

function probe(over: Partial<ProbeSample> = {}): ProbeSample {
  return {
    segmentBytes: 1000,
    stalls: 0,
    stalledSec: 0,
    playing: true,
    currentTime: 10,
    pageSec: 10,
    stallLog: [],
    slowLog: [],
    longTaskSec: 0,
    firstPlayingSec: 1,
    latencySec: 6,
    controlled: false,
    relaycast: null,
    errors: [],
    hashes: [],
    ...over,
  };
}

/** Two viewers playing for 60 s in real time, as the load tool records them. */
function run(p2p: boolean): LoadResult {
  const ticks: Tick[] = [];
  for (let t = 0; t <= 60; t += 2) {
    const s = probe({ segmentBytes: 1000 * t, currentTime: t, pageSec: t });
    ticks.push({ tSec: t, cpuBusy: 0.5, originSegmentBytes: 500 * t, viewers: [0, 1].map((id) => ({ id, role: 'honest' as const, openedSec: 0, present: true, sample: s })) });
  }
  return computeResult(ticks, { viewers: 2, durationSec: 60, p2p, warmupSec: 10, lastOpenedSec: 0, errors: [], integrity: { checked: 0, corrupted: 0, unknown: 0 }, faults: { malicious: 0, churnPct: 0, signalOutageSec: 0, slowPeers: 0 } });
}

const pair = (p2p: Partial<LoadResult>, control: Partial<LoadResult>): LoadResult => ({ ...run(true), ...p2p, baselineMode: 'concurrent', baseline: { ...run(false), ...control } });

test('a control that did not stall leaves the P2P run no stall at all', () => {
  assertNoWorseThanControl(pair({}, {}));
  assert.throws(() => assertNoWorseThanControl(pair({ stalls: 1, stalledSec: 0.2 }, {})), /no stall beyond the same-run control/);
});

test('a control that stalled on a busy machine allows as many stalls, and about as long', () => {
  assertNoWorseThanControl(pair({ stalls: 1, stalledSec: 1.5 }, { stalls: 1, stalledSec: 0.8 }));
  assert.throws(() => assertNoWorseThanControl(pair({ stalls: 2, stalledSec: 1 }, { stalls: 1, stalledSec: 1 })), /no stall beyond/);
  assert.throws(() => assertNoWorseThanControl(pair({ stalls: 1, stalledSec: 4 }, { stalls: 1, stalledSec: 0.5 })), /no longer stalls/);
});

test('a waiting with media buffered ahead is a hiccup of the machine, not a stall against P2P; its seconds still count', () => {
  const withLog = (stallLog: ProbeSample['stallLog'], stalledSec: number): Partial<LoadResult> => {
    const r = run(true);
    return { stalls: 1, stalledSec, perViewer: r.perViewer.map((v, i) => (i === 0 ? { ...v, stalls: 1, stallLog } : v)) };
  };
  assertNoWorseThanControl(pair(withLog([{ atSec: 9.478, sec: 0.011, seeking: false, aheadSec: 1.99 }], 0.011), {}));
  assert.throws(() => assertNoWorseThanControl(pair(withLog([{ atSec: 9.478, sec: 0.011, seeking: false, aheadSec: 0.02 }], 0.011), {})), /buffer ran dry/);
  assert.throws(() => assertNoWorseThanControl(pair(withLog([{ atSec: 9.478, sec: 0.3, seeking: true, aheadSec: 1.99 }], 0.3), {})), /buffer ran dry/);
  assert.throws(() => assertNoWorseThanControl(pair(withLog([{ atSec: 9.478, sec: 1.5, seeking: false, aheadSec: 1.99 }], 1.5), {})), /no longer stalls/);
  assertStallsWithinControl([probe({ stalls: 1, stalledSec: 0.011, stallLog: [{ atSec: 9, sec: 0.011, seeking: false, aheadSec: 1.99 }] })], [probe()], 'hiccup');
});

test('latency: one segment beyond the control on a quiet machine; the control clock\'s own lag on top when it ran slow', () => {
  assertNoWorseThanControl(pair({ latencySecMedian: 7.9 }, { latencySecMedian: 6 }));
  assert.throws(() => assertNoWorseThanControl(pair({ latencySecMedian: 8.5 }, { latencySecMedian: 6, mediaClockRate: 1 })), /as close to the live edge/);
  // The control's clock ran 5 % slow over the 50 s window: 2.5 s more allowed.
  assertNoWorseThanControl(pair({ latencySecMedian: 10, mediaClockRate: 0.94 }, { latencySecMedian: 6, mediaClockRate: 0.95 }));
  // The control's own viewers 3.2 s apart (each started at its own distance from the edge): 1.6 s more allowed.
  const spread = (ls: number[]): Partial<LoadResult> => ({ latencySecMedian: 11.2, mediaClockRate: 1, perViewer: run(false).perViewer.map((v, i) => ({ ...v, latencySecMedian: ls[i]! })) });
  assertNoWorseThanControl(pair({ latencySecMedian: 14.5 }, spread([9.6, 12.8])));
  assert.throws(() => assertNoWorseThanControl(pair({ latencySecMedian: 14.5 }, spread([11.1, 11.3]))), /as close to the live edge/);
});

test('media clock: within 1 % of the control\'s, plus the control\'s own deficit', () => {
  assert.throws(() => assertNoWorseThanControl(pair({ mediaClockRate: 0.97 }, { mediaClockRate: 1 })), /media clock keeps pace/);
  assertNoWorseThanControl(pair({ mediaClockRate: 0.97 }, { mediaClockRate: 0.97 }));
  assertNoWorseThanControl(pair({ mediaClockRate: 0.9 }, { mediaClockRate: 0.95 }));
});

test('a control that does not play, or no control, fails the run', () => {
  assert.throws(() => assertNoWorseThanControl(pair({}, { notPlaying: 1 })), /the control without P2P plays/);
  assert.throws(() => assertNoWorseThanControl(run(true)), /concurrent control/);
  assert.throws(() => assertNoWorseThanControl({ ...pair({}, {}), baselineMode: 'after' }), /concurrent control/);
});

test('session viewers: stalls within their control viewers\'', () => {
  assertStallsWithinControl([probe(), probe()], [probe(), probe()], 'quiet');
  assert.throws(() => assertStallsWithinControl([probe({ stalls: 1, stalledSec: 0.1 })], [probe()], 'quiet'), /no stall beyond the control viewers/);
  assertStallsWithinControl([probe({ stalls: 1, stalledSec: 0.1 })], [probe({ stalls: 1, stalledSec: 0.3 })], 'busy');
  assert.throws(() => assertStallsWithinControl([probe()], [probe({ playing: false })], 'broken'), /control viewers play/);
});
