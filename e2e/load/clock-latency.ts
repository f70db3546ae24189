/**
 * Latency from the pusher's clock to the viewers' screens (`--ingest`), over the steady window:
 * each reading is one presented frame whose burned-in capture time a page read back
 * (e2e/support/clock-probe.ts), about two a second per viewer.
 */
import { median, quantile } from './metrics.js';

export interface ClockReading {
  /** Run time of the poll that collected it (s). */
  readonly tSec: number;
  readonly latencySec: number;
}

export interface PusherLatency {
  /** Over all viewers' readings in the window, s. */
  readonly medianSec: number | null;
  readonly p90Sec: number | null;
  readonly readings: number;
  /** Frames whose clock did not read as a plausible time (none expected). */
  readonly unreadable: number;
  readonly perViewer: { readonly id: number; readonly medianSec: number | null; readonly readings: number }[];
}

const round2 = (x: number | null): number | null => (x === null ? null : Math.round(x * 100) / 100);

export function pusherLatency(byViewer: ReadonlyMap<number, readonly ClockReading[]>, unreadable: number, window: { readonly startSec: number; readonly endSec: number }): PusherLatency {
  const inWindow = (rs: readonly ClockReading[]): number[] => rs.filter((r) => r.tSec >= window.startSec && r.tSec <= window.endSec + 2).map((r) => r.latencySec);
  const all = [...byViewer.values()].flatMap(inWindow);
  return {
    medianSec: round2(median(all)),
    p90Sec: round2(quantile(all, 0.9)),
    readings: all.length,
    unreadable,
    perViewer: [...byViewer.entries()].map(([id, rs]) => ({ id, medianSec: round2(median(inWindow(rs))), readings: inWindow(rs).length })),
  };
}
