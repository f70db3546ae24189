/**
 * Same-run controls. A viewer's stalls and distance from the live edge depend on the machine as
 * much as on relaycast: on two busy cores a player can stall without P2P too. So the browser tests
 * compare each P2P run with the same viewers without relaycast, played at the same time under the
 * same load, instead of with an absolute zero. On a quiet machine the control has no stall, and
 * then neither may the P2P run.
 */
import assert from 'node:assert/strict';
import type { LoadResult } from '../load/metrics.js';
import type { ProbeSample, StallEntry } from './page-probe.js';

/**
 * How far the P2P run's median latency may sit behind its control's on a quiet machine. Players
 * start on segment boundaries of the 2 s segments, so two groups of viewers' medians differ by up
 * to one segment without a stall (measured: -1.5..+1.5 s between runs of 3 Shaka viewers each).
 */
export const LATENCY_TOLERANCE_SEC = 2;
/** Media seconds per second of page time (LoadResult.mediaClockRate): 1 % is 0.5 s over a 50 s run. */
export const CLOCK_RATE_TOLERANCE = 0.01;
/** Stalled seconds beyond the control's, once the control stalled as often. */
export const STALLED_SEC_TOLERANCE = 1;

/**
 * What the machine itself did to the control: how much slower than real time its media clock ran
 * (0 on a quiet machine; measured 0.09 with both cores saturated, P2P or not). The P2P run may
 * fall that much further behind again, no more.
 */
function clockDeficit(c: LoadResult): number {
  return c.mediaClockRate === null ? 0 : Math.max(0, 1 - c.mediaClockRate);
}

/**
 * How far apart the control's own viewers sit from the live edge: half the range of their medians.
 * A player's distance from the edge is set at its start (the live edge minus its sync duration, plus
 * however long its first segments took), so on a busy machine viewers opened one after another
 * differ by seconds without P2P (measured with both cores saturated: 9.6..12.8 s among four hls.js
 * control viewers). A P2P median that far from the control's is the machine, not relaycast.
 */
function startSpread(c: LoadResult): number {
  const ls = c.perViewer.map((v) => v.latencySecMedian).filter((l): l is number => l !== null);
  return ls.length < 2 ? 0 : (Math.max(...ls) - Math.min(...ls)) / 2;
}

/**
 * Media seconds still buffered when a `waiting` began above which the stall was not the buffer
 * running dry: the element had media to play and paused anyway, a decoder or main-thread hiccup of a
 * saturated machine (measured: 11 ms with 1.99 s ahead, both cores busy). Late delivery empties the
 * buffer first. Such stalls still count in the stalled seconds compared below.
 */
export const HICCUP_AHEAD_SEC = 0.5;

const hiccup = (e: StallEntry): boolean => !e.seeking && e.aheadSec >= HICCUP_AHEAD_SEC;

/** Stalls in which the buffer ran dry (or the player seeked): all of them less the logged hiccups. */
export function dryStalls(stalls: number, log: readonly StallEntry[]): number {
  return stalls - log.filter(hiccup).length;
}

const dryOf = (r: LoadResult): number => dryStalls(r.stalls, r.perViewer.flatMap((v) => v.stallLog));

const stallsOf = (r: LoadResult): string =>
  r.perViewer
    .filter((v) => v.stalls > 0)
    .map((v) => `v${v.id}${v.player ? ` ${v.player}` : ''}${v.role === 'honest' ? '' : ` ${v.role}`}: ${JSON.stringify(v.stallLog)}`)
    .join('; ') || 'none';

/** The P2P run `r` is no worse for its viewers than its concurrent control (`r.baseline`). */
export function assertNoWorseThanControl(r: LoadResult): void {
  const c = r.baseline;
  assert.ok(c !== undefined && r.baselineMode === 'concurrent', 'the run has a concurrent control without P2P');
  const detail = `P2P stalls ${r.stalls} (${r.stalledSec} s) [${stallsOf(r)}], control ${c.stalls} (${c.stalledSec} s) [${stallsOf(c)}], cpu ${JSON.stringify(r.cpuBusy)}`;
  assert.equal(c.notPlaying, 0, `the control without P2P plays (if not, this machine cannot run the test): ${detail}`);
  assert.ok(dryOf(r) <= dryOf(c), `no stall beyond the same-run control without P2P (the buffer ran dry): ${detail}`);
  assert.ok(r.stalledSec <= c.stalledSec + STALLED_SEC_TOLERANCE, `no longer stalls than the control's: ${detail}`);
  const deficit = clockDeficit(c);
  const windowSec = Math.max(0, r.window.endSec - r.window.startSec);
  // VOD has no live edge: its "latency" is the time left to play.
  if (r.stream?.vod !== true && r.latencySecMedian !== null && c.latencySecMedian !== null) {
    const allowed = LATENCY_TOLERANCE_SEC + deficit * windowSec + startSpread(c);
    assert.ok(
      r.latencySecMedian <= c.latencySecMedian + allowed,
      `as close to the live edge as the control: ${r.latencySecMedian} s against ${c.latencySecMedian} s (+${allowed.toFixed(2)} s allowed): ${detail}`,
    );
  }
  if (r.mediaClockRate !== null && c.mediaClockRate !== null) {
    const allowed = CLOCK_RATE_TOLERANCE + deficit;
    assert.ok(
      r.mediaClockRate >= c.mediaClockRate - allowed,
      `the media clock keeps pace with the control's: ${r.mediaClockRate} against ${c.mediaClockRate} (-${allowed.toFixed(3)} allowed)`,
    );
  }
}

/** Viewers acted on mid-run (a session) against control viewers opened with them, without relaycast. */
export function assertStallsWithinControl(p2p: readonly ProbeSample[], control: readonly ProbeSample[], what: string): void {
  const n = (xs: readonly ProbeSample[]): number => xs.reduce((a, s) => a + dryStalls(s.stalls, s.stallLog), 0);
  const sec = (xs: readonly ProbeSample[]): number => xs.reduce((a, s) => a + s.stalledSec, 0);
  const log = (xs: readonly ProbeSample[]): string => JSON.stringify(xs.map((s) => s.stallLog));
  const detail = `P2P ${n(p2p)} (${sec(p2p).toFixed(2)} s) ${log(p2p)}, control ${n(control)} (${sec(control).toFixed(2)} s) ${log(control)}`;
  assert.ok(control.length > 0 && control.every((s) => s.playing), `${what}: the control viewers play: ${detail}`);
  assert.ok(n(p2p) <= n(control), `${what}: no stall beyond the control viewers': ${detail}`);
  assert.ok(sec(p2p) <= sec(control) + STALLED_SEC_TOLERANCE, `${what}: no longer stalls than the control viewers': ${detail}`);
}

/** A viewer's stalls since an earlier sample of it: one phase of a run, its warm-up left out. */
export function stallsSince(now: ProbeSample, since: ProbeSample): ProbeSample {
  return { ...now, stalls: now.stalls - since.stalls, stalledSec: now.stalledSec - since.stalledSec, stallLog: now.stallLog.filter((e) => e.atSec >= since.pageSec) };
}
