import type { ProbeSample } from '../support/page-probe.js';

/** One poll of the whole run: the origin's counter and every viewer's probe. */
export interface Tick {
  readonly tSec: number;
  /** null when the page's origin has no relaycast adapter to ask. */
  readonly originSegmentBytes: number | null;
  readonly viewers: readonly (ProbeSample | null)[];
}

export interface LoadResult {
  viewers: number;
  durationSec: number;
  p2p: boolean;
  /** Segment bytes the origin served over the whole run (counted by the origin adapter). */
  originSegmentBytes: number | null;
  /** Segment bytes the players received over the whole run (counted in the pages, independently of relaycast). */
  segmentBytesToPlayers: number;
  /** Segment bytes handed to players that came from peers (relaycast's own count). */
  peerSegmentBytes: number;
  uploadedBytes: number;
  /** 1 - origin / to-players over the steady window. */
  offload: number | null;
  bound: number;
  window: { startSec: number; endSec: number; originSegmentBytes: number | null; segmentBytesToPlayers: number };
  stalls: number;
  stalledSec: number;
  notPlaying: number;
  errors: number;
  errorSamples: string[];
  latencySecMedian: number | null;
  controlled: number;
  perViewer: Array<{
    index: number;
    segmentBytes: number;
    peerBytes: number;
    originBytes: number;
    uploadedBytes: number;
    stalls: number;
    stalledSec: number;
    latencySecMedian: number | null;
    controlled: boolean;
    playing: boolean;
  }>;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Turns the ticks of a run into the load tool's JSON. The steady window starts
 * `warmupSec` after every viewer first played (or after the last one opened,
 * whichever is later) and ends at the last tick.
 */
export function computeResult(
  ticks: readonly Tick[],
  o: { viewers: number; durationSec: number; p2p: boolean; warmupSec: number; lastOpenedSec: number; errors: readonly string[] },
): LoadResult {
  const last = ticks[ticks.length - 1];
  const lastViewers = last?.viewers ?? [];
  const allPlayingAt = ticks.find((t) => t.viewers.length === o.viewers && t.viewers.every((v) => v?.playing))?.tSec ?? o.lastOpenedSec;
  let startSec = Math.max(allPlayingAt, o.lastOpenedSec) + o.warmupSec;
  // Keep a window of at least a third of the run even when warm-up was slow.
  const endSec = last?.tSec ?? 0;
  if (endSec - startSec < endSec / 3) startSec = Math.max(o.lastOpenedSec, endSec - endSec / 3);
  const first = ticks.find((t) => t.tSec >= startSec) ?? last;
  const bytesAt = (t: Tick | undefined): number => sum((t?.viewers ?? []).map((v) => v?.segmentBytes ?? 0));
  const toPlayersWin = bytesAt(last) - bytesAt(first);
  const originWin =
    last?.originSegmentBytes != null && first?.originSegmentBytes != null ? last.originSegmentBytes - first.originSegmentBytes : null;

  // A viewer plays at the end if its playhead moved over the last ~6 s.
  const lookback = [...ticks].reverse().find((t) => t.tSec <= endSec - 6);
  const playingAtEnd = lastViewers.map((v, i) => {
    const before = lookback?.viewers[i];
    return !!v && v.playing && (!before || v.currentTime > before.currentTime + 1);
  });

  const latencies: number[][] = lastViewers.map(() => []);
  for (const t of ticks) {
    if (t.tSec < startSec) continue;
    t.viewers.forEach((v, i) => {
      if (v?.latencySec != null && Number.isFinite(v.latencySec)) latencies[i]?.push(v.latencySec);
    });
  }
  const errorSamples = [...o.errors, ...lastViewers.flatMap((v) => v?.errors ?? [])];

  return {
    viewers: o.viewers,
    durationSec: o.durationSec,
    p2p: o.p2p,
    originSegmentBytes: last?.originSegmentBytes ?? null,
    segmentBytesToPlayers: bytesAt(last),
    peerSegmentBytes: sum(lastViewers.map((v) => v?.relaycast?.deliveredPeerBytes ?? 0)),
    uploadedBytes: sum(lastViewers.map((v) => v?.relaycast?.uploadedBytes ?? 0)),
    offload: originWin !== null && toPlayersWin > 0 ? round(1 - originWin / toPlayersWin) : null,
    bound: round(1 - 1 / o.viewers),
    window: { startSec: round(first?.tSec ?? 0, 1), endSec: round(endSec, 1), originSegmentBytes: originWin, segmentBytesToPlayers: toPlayersWin },
    stalls: sum(lastViewers.map((v) => v?.stalls ?? 0)),
    stalledSec: round(sum(lastViewers.map((v) => v?.stalledSec ?? 0)), 2),
    notPlaying: playingAtEnd.filter((p) => !p).length + Math.max(0, o.viewers - lastViewers.length),
    errors: errorSamples.length,
    errorSamples: errorSamples.slice(0, 20),
    latencySecMedian: (() => {
      const m = median(latencies.flat());
      return m === null ? null : round(m, 2);
    })(),
    controlled: lastViewers.filter((v) => v?.controlled).length,
    perViewer: lastViewers.map((v, i) => ({
      index: i,
      segmentBytes: v?.segmentBytes ?? 0,
      peerBytes: v?.relaycast?.peerBytes ?? 0,
      originBytes: v?.relaycast?.originBytes ?? 0,
      uploadedBytes: v?.relaycast?.uploadedBytes ?? 0,
      stalls: v?.stalls ?? 0,
      stalledSec: round(v?.stalledSec ?? 0, 2),
      latencySecMedian: (() => {
        const m = median(latencies[i] ?? []);
        return m === null ? null : round(m, 2);
      })(),
      controlled: v?.controlled ?? false,
      playing: playingAtEnd[i] ?? false,
    })),
  };
}
