/** The JSON `npm run bench:cpu` prints: each pair of runs, and the medians over the pairs. */
import type { CpuProfile } from '../load/cpu-profile.js';
import { median } from '../load/metrics.js';

/** One P2P run and its plain-playback control, as the load tool returned them. */
export interface PairInput {
  readonly p2p: { cpu?: CpuProfile | null; offload: number | null; stalls: number; latencySecMedian: number | null; cpuBusy: { p50: number | null } };
  readonly plain: { cpu?: CpuProfile | null; stalls: number; latencySecMedian: number | null; cpuBusy: { p50: number | null } };
}

export interface Pair {
  /** P2P's CPU per viewer-minute over plain playback's; null when either was not measured. */
  cpuRatio: number | null;
  /** P2P's CPU per viewer-minute less plain playback's: what relaying costs, in CPU seconds. */
  extraCpuSecPerViewerMin: number | null;
  p2p: CpuProfile | null;
  plain: CpuProfile | null;
  offload: number | null;
  stalls: { p2p: number; plain: number };
  latencySecMedian: { p2p: number | null; plain: number | null };
  /** The machine's CPU use (0..1 over all cores) during the P2P run and its control. */
  cpuBusyP50: { p2p: number | null; plain: number | null };
  /**
   * The machine was saturated during the pair (CPU use p50 at or above SATURATED on either side):
   * starved players drop frames and plain playback then does less work while relaying does not,
   * so the ratio is an upper bound.
   */
  saturated: boolean;
}

export const SATURATED = 0.95;

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

export function pairOf(i: PairInput): Pair {
  const a = i.p2p.cpu ?? null;
  const b = i.plain.cpu ?? null;
  return {
    cpuRatio: a && b && b.cpuSecPerViewerMin > 0 ? r3(a.cpuSecPerViewerMin / b.cpuSecPerViewerMin) : null,
    extraCpuSecPerViewerMin: a && b ? r3(a.cpuSecPerViewerMin - b.cpuSecPerViewerMin) : null,
    p2p: a,
    plain: b,
    offload: i.p2p.offload,
    stalls: { p2p: i.p2p.stalls, plain: i.plain.stalls },
    latencySecMedian: { p2p: i.p2p.latencySecMedian, plain: i.plain.latencySecMedian },
    cpuBusyP50: { p2p: i.p2p.cpuBusy.p50, plain: i.plain.cpuBusy.p50 },
    saturated: (i.p2p.cpuBusy.p50 ?? 0) >= SATURATED || (i.plain.cpuBusy.p50 ?? 0) >= SATURATED,
  };
}

/** Per key, the median over the records (a key missing from one counts 0 there). */
export function medianRecord(recs: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const keys = new Set(recs.flatMap((r) => Object.keys(r)));
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = r3(median(recs.map((r) => r[k] ?? 0)) ?? 0);
  return Object.fromEntries(Object.entries(out).sort((x, y) => y[1] - x[1]));
}

function med(xs: readonly (number | null | undefined)[]): number | null {
  const v = median(xs.filter((x): x is number => typeof x === 'number'));
  return v === null ? null : r3(v);
}

/** Medians of the profiles of one side over the pairs. */
export function medianProfile(ps: readonly (CpuProfile | null)[]): Record<string, unknown> | null {
  const list = ps.filter((p): p is CpuProfile => p !== null);
  if (list.length === 0) return null;
  const msgs = list.map((p) => p.messagesPerSecPerPage).filter((m) => m !== null);
  const frames = list.map((p) => p.frameBytesPerSegmentByte).filter((m) => m !== null);
  const wb = list.map((p) => p.workerBoundary).filter((m) => m !== null);
  return {
    cpuSecPerViewerMin: med(list.map((p) => p.cpuSecPerViewerMin)),
    byProcess: medianRecord(list.map((p) => p.byProcess)),
    byThread: medianRecord(list.map((p) => p.byThread)),
    ...(msgs.length > 0
      ? {
          messagesPerSecPerPage: { sent: medianRecord(msgs.map((m) => m.sent)), received: medianRecord(msgs.map((m) => m.received)) },
          messagesPerSecPerPageTotal: { sent: med(msgs.map((m) => sumOf(m.sent))), received: med(msgs.map((m) => sumOf(m.received))) },
        }
      : {}),
    ...(frames.length > 0 ? { frameBytesPerSegmentByte: { sent: med(frames.map((f) => f.sent)), received: med(frames.map((f) => f.received)) } } : {}),
    ...(wb.length > 0
      ? { workerBoundary: { bytesPerSegmentByte: med(wb.map((w) => w.bytesPerSegmentByte)), copiedPerSegmentByte: med(wb.map((w) => w.copiedPerSegmentByte)) } }
      : {}),
  };
}

function sumOf(r: Readonly<Record<string, number>>): number {
  return Object.values(r).reduce((s, x) => s + x, 0);
}

/** The printed result: the ratio's median first, then the medians of each side, then every pair. */
export function summarize(pairs: readonly Pair[]): { cpuRatio: number | null; cpuRatios: (number | null)[]; extraCpuSecPerViewerMin: number | null; saturatedPairs: number; p2p: Record<string, unknown> | null; plain: Record<string, unknown> | null; pairs: readonly Pair[] } {
  return {
    cpuRatio: med(pairs.map((p) => p.cpuRatio)),
    cpuRatios: pairs.map((p) => p.cpuRatio),
    extraCpuSecPerViewerMin: med(pairs.map((p) => p.extraCpuSecPerViewerMin)),
    saturatedPairs: pairs.filter((p) => p.saturated).length,
    p2p: medianProfile(pairs.map((p) => p.p2p)),
    plain: medianProfile(pairs.map((p) => p.plain)),
    pairs,
  };
}
