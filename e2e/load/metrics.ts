import type { SlowRequest } from '../../protocol/stats.js';
import type { ProbeSample, StallEntry } from '../support/page-probe.js';
import type { ViewerRole } from '../support/viewers.js';

/** A playhead that moved this much more or less than the page clock between two polls was moved (a seek), not late. */
const CLOCK_JUMP_SEC = 1;

export interface ViewerTick {
  readonly id: number;
  readonly role: ViewerRole;
  /** The embedded page's player, when the run chose it. */
  readonly player?: string;
  readonly openedSec: number;
  /** False once the viewer left (churn); its last sample stays, frozen. */
  readonly present: boolean;
  readonly sample: ProbeSample | null;
}

/** One poll of the whole run: the origin's counter and every viewer that ever opened. */
export interface Tick {
  readonly tSec: number;
  /** The machine's CPU use since the previous poll, 0..1 over all cores (null if unknown). */
  readonly cpuBusy: number | null;
  /** null when the page's origin has no relaycast adapter to ask. */
  readonly originSegmentBytes: number | null;
  readonly viewers: readonly ViewerTick[];
}

export interface IntegrityCount {
  /** Segments the players received whose hash was compared with the origin's. */
  checked: number;
  /** ... and did not match: corrupted video reached a player. */
  corrupted: number;
  /** ... for which the origin had no hash (not counted as corrupted). */
  unknown: number;
}

export interface LoadEvent {
  tSec: number;
  what: 'signal-down' | 'signal-up' | 'churn' | 'node-killed' | 'node-back';
}

export interface Faults {
  malicious: number;
  churnPct: number;
  signalOutageSec: number;
  slowPeers: number;
}

export interface ViewerResult {
  id: number;
  role: ViewerRole;
  /** The embedded page's player (absent with --url). */
  player?: string;
  present: boolean;
  segmentBytes: number;
  peerBytes: number;
  originBytes: number;
  uploadedBytes: number;
  /** Bytes relaycast handed to this viewer's player from peers (its `deliveredPeerBytes`). */
  deliveredPeerBytes: number;
  stalls: number;
  stalledSec: number;
  /** When each stall began (page clock, s since the page opened) and how long it lasted. */
  stallLog: StallEntry[];
  /** Segment requests that took over a second (page clock s, ms, file). */
  slowLog: { atSec: number; ms: number; path: string }[];
  /** When the run opened the viewer (s) and when its player first played (page clock s). */
  openedSec: number;
  firstPlayingSec: number | null;
  /** Main-thread long tasks in the page, total seconds (a busy page, not a slow network). */
  longTaskSec: number;
  /** relaycast's own log of requests it held over a second, and why (RelaycastStats.slowRequests). */
  slowRequests: readonly SlowRequest[];
  latencySecMedian: number | null;
  /**
   * Media seconds played per second of page time, over the window's poll intervals in which the
   * viewer played throughout (no stall, no seek); null under 20 s of them. Below 1, the playhead
   * falls behind the live edge without a stall (a starved media clock).
   */
  mediaClockRate: number | null;
  controlled: boolean;
  playing: boolean;
  /** relaycast's reason for its last ban, if any. */
  lastBanReason: string | null;
  /** This viewer's share of `segmentsChecked` and `corruptedDelivered`. */
  segmentsChecked: number;
  corruptedDelivered: number;
  /** The viewer's upload cap in the network lab, Mbit/s; null: none (or no lab). */
  uplinkMbps?: number | null;
  /** The NAT in front of the viewer in the network lab; null: none (or no lab). */
  nat?: 'cone' | 'symmetric' | null;
}

/** The network lab a run used (`--uplink-mbps`). */
export interface LabSummary {
  /** The tag in the name of every namespace and the alias of every link it created. */
  id: string;
  subnet: string;
  qdisc: 'tbf';
  /** Each viewer slot's upload cap, Mbit/s (null: none), in opening order; a viewer that replaces one takes its slot. */
  uplinkMbps: (number | null)[];
  /** Before the run: the time one upload took from each capped slot to the host, and its rate. */
  uplinkCheck: { slot: number; bytes: number; seconds: number; mbps: number }[];
  /** Each slot's home router NAT (null: on the bridge itself). */
  nat: ('cone' | 'symmetric' | null)[];
  /** coturn ran on the bridge (STUN and TURN, credentials from the adapter). */
  turn: boolean;
  /**
   * During the run, per NATed slot: UDP bytes its router forwarded to the public host (the TURN
   * server; the adapter speaks TCP) and to other viewers' routers (direct links).
   */
  udpBytes: { slot: number; toPublic: number; toViewers: number; directTo: string[] }[];
}

export interface LoadResult {
  /** The embedded page's player, protocol and kind of stream (absent with --url). */
  stream?: { player: string; protocol: string; vod: boolean; source?: 'rtmp' };
  viewers: number;
  /** Viewers that ever played (more than `viewers` with churn). */
  viewersTotal: number;
  durationSec: number;
  p2p: boolean;
  faults: Faults;
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
  /** Median of the viewers' mediaClockRate. */
  mediaClockRate: number | null;
  controlled: number;
  /** Segments players received that differ from the origin's bytes (compared by the load tool, not by relaycast). */
  corruptedDelivered: number;
  segmentsChecked: number;
  segmentsWithoutOriginHash: number;
  /** Peer pieces, lists or copies relaycast rejected on its own hash check, and peers it banned. */
  rejectedSegments: number;
  /** Segments the viewers assembled from the pieces of two or more peers, and those the origin completed. */
  segmentsFromSeveralPeers: number;
  filledSegments: number;
  bannedPeers: number;
  perViewer: ViewerResult[];
  /** Cumulative totals at every poll, for plots and for checking what happened when. */
  timeline: { tSec: number; cpuBusy: number | null; originSegmentBytes: number | null; segmentBytesToPlayers: number; peerSegmentBytes: number; playing: number }[];
  /** The machine's CPU use over the polls (0..1, all cores): median and 90th percentile. */
  cpuBusy: { p50: number | null; p90: number | null };
  /** Faults injected during the run, when. */
  events: LoadEvent[];
  /** The embedded live source's constant video bitrate (kbit/s); null: the ladder's. */
  bitrateKbps?: number | null;
  /** The network lab (null: loopback, no caps). */
  lab?: LabSummary | null;
  /**
   * At the end of the run, the viewers' peer connections by the route ICE chose (pages'
   * `candidates` stats summed: a link between two viewers counts at each of its two pages).
   */
  candidates?: { host: number; srflx: number; relay: number };
  /** ICE candidates the adapter's signaling passed between viewers during the run, by type (embedded adapter). */
  signaledCandidates?: { host: number; srflx: number; prflx: number; relay: number } | null;
  /** The same invocation without P2P: run after this one, or at the same time on its own adapter and browser. */
  baseline?: LoadResult;
  baselineMode?: 'after' | 'concurrent';
  /** window.relaycastOptions of the P2P viewers (`--client-options`, `--relay-only`); absent: none. */
  clientOptions?: Record<string, unknown>;
}

/** The q-quantile (nearest rank) of xs, or null when empty. */
export function quantile(xs: readonly number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;
const roundOrNull = (x: number | null, digits: number): number | null => (x === null ? null : round(x, digits));

/** A viewer that joined this long before the end must be playing by then. */
const JOIN_GRACE_SEC = 15;

/**
 * Turns the ticks of a run into the load tool's JSON. The steady window starts
 * `warmupSec` after every initial viewer first played (or after the last
 * initial one opened, whichever is later) and ends at the last tick.
 */
export function computeResult(
  ticks: readonly Tick[],
  o: {
    viewers: number;
    durationSec: number;
    p2p: boolean;
    warmupSec: number;
    lastOpenedSec: number;
    errors: readonly string[];
    integrity: IntegrityCount;
    /** The same counts per viewer id. */
    integrityOf?: ReadonlyMap<number, IntegrityCount>;
    faults: Faults;
    events?: LoadEvent[];
    /** VOD: players fill their buffers from the start, so the whole run is the window (no steady state). */
    wholeRun?: boolean;
  },
): LoadResult {
  const last = ticks[ticks.length - 1];
  const all = last?.viewers ?? [];
  const allPlayingAt =
    ticks.find((t) => t.viewers.length >= o.viewers && t.viewers.slice(0, o.viewers).every((v) => v.sample?.playing))?.tSec ?? o.lastOpenedSec;
  const endSec = last?.tSec ?? 0;
  let startSec = Math.max(allPlayingAt, o.lastOpenedSec) + o.warmupSec;
  // Keep a window of at least a third of the run even when warm-up was slow.
  if (endSec - startSec < endSec / 3) startSec = Math.max(o.lastOpenedSec, endSec - endSec / 3);
  // Whole run: from the adapter's start and the pages' opening, when both counts were 0.
  const zero: Tick = { tSec: 0, cpuBusy: null, originSegmentBytes: 0, viewers: [] };
  const first = o.wholeRun === true ? zero : (ticks.find((t) => t.tSec >= startSec) ?? last);
  const bytesAt = (t: Tick | undefined): number => sum((t?.viewers ?? []).map((v) => v.sample?.segmentBytes ?? 0));
  const toPlayersWin = bytesAt(last) - bytesAt(first);
  const originWin =
    last?.originSegmentBytes != null && first?.originSegmentBytes != null ? last.originSegmentBytes - first.originSegmentBytes : null;

  // A viewer plays at the end if its playhead moved over the last ~6 s.
  const lookback = [...ticks].reverse().find((t) => t.tSec <= endSec - 6);
  const playingAtEnd = (v: ViewerTick): boolean => {
    const before = lookback?.viewers.find((b) => b.id === v.id)?.sample;
    return !!v.sample && v.sample.playing && (!before || v.sample.currentTime > before.currentTime + 1);
  };

  const latencies = new Map<number, number[]>();
  for (const t of ticks) {
    if (t.tSec < startSec) continue;
    for (const v of t.viewers) {
      const l = v.sample?.latencySec;
      if (!v.present || l == null || !Number.isFinite(l)) continue;
      latencies.set(v.id, [...(latencies.get(v.id) ?? []), l]);
    }
  }
  // Media clock: playhead advance over page time, summed over the window's poll intervals in which the viewer played
  // throughout: no stall began or went on, and the playhead did not jump (a seek moves it by seconds at once; a clock
  // off by a few per cent moves it by a fraction of a second per poll). Only over at least 20 s of such intervals.
  const clockRates = new Map<number, number>();
  for (const v of all) {
    let played = 0;
    let page = 0;
    let prev: ProbeSample | undefined;
    for (const t of ticks) {
      if (t.tSec < startSec) continue;
      const cur = t.viewers.find((x) => x.id === v.id)?.sample ?? undefined;
      if (prev && cur && prev.playing && cur.playing && cur.stalls === prev.stalls && cur.stalledSec === prev.stalledSec) {
        const dPage = cur.pageSec - prev.pageSec;
        const dMedia = cur.currentTime - prev.currentTime;
        if (dPage > 0 && Math.abs(dMedia - dPage) <= CLOCK_JUMP_SEC) {
          played += dMedia;
          page += dPage;
        }
      }
      prev = cur;
    }
    if (page >= 20) clockRates.set(v.id, played / page);
  }
  const errorSamples = [...o.errors, ...all.flatMap((v) => v.sample?.errors ?? [])];
  const rc = (v: ViewerTick) => v.sample?.relaycast;
  const cpuSamples = ticks.map((t) => t.cpuBusy).filter((x): x is number => x !== null);

  return {
    viewers: o.viewers,
    viewersTotal: all.length,
    durationSec: o.durationSec,
    p2p: o.p2p,
    faults: o.faults,
    originSegmentBytes: last?.originSegmentBytes ?? null,
    segmentBytesToPlayers: bytesAt(last),
    peerSegmentBytes: sum(all.map((v) => rc(v)?.deliveredPeerBytes ?? 0)),
    uploadedBytes: sum(all.map((v) => rc(v)?.uploadedBytes ?? 0)),
    offload: originWin !== null && toPlayersWin > 0 ? round(1 - originWin / toPlayersWin) : null,
    bound: round(1 - 1 / o.viewers),
    window: { startSec: round(first?.tSec ?? 0, 1), endSec: round(endSec, 1), originSegmentBytes: originWin, segmentBytesToPlayers: toPlayersWin },
    stalls: sum(all.map((v) => v.sample?.stalls ?? 0)),
    stalledSec: round(sum(all.map((v) => v.sample?.stalledSec ?? 0)), 2),
    notPlaying: all.filter((v) => v.present && v.openedSec <= endSec - JOIN_GRACE_SEC && !playingAtEnd(v)).length,
    errors: errorSamples.length,
    errorSamples: errorSamples.slice(0, 20),
    latencySecMedian: roundOrNull(median([...latencies.values()].flat()), 2),
    mediaClockRate: roundOrNull(median([...clockRates.values()]), 3),
    controlled: all.filter((v) => v.present && v.sample?.controlled).length,
    corruptedDelivered: o.integrity.corrupted,
    segmentsChecked: o.integrity.checked,
    segmentsWithoutOriginHash: o.integrity.unknown,
    rejectedSegments: sum(all.map((v) => rc(v)?.rejectedSegments ?? 0)),
    segmentsFromSeveralPeers: sum(all.map((v) => rc(v)?.segmentsFromSeveralPeers ?? 0)),
    filledSegments: sum(all.map((v) => rc(v)?.filledSegments ?? 0)),
    bannedPeers: sum(all.map((v) => rc(v)?.bannedPeers ?? 0)),
    perViewer: all.map((v) => ({
      id: v.id,
      role: v.role,
      ...(v.player !== undefined ? { player: v.player } : {}),
      present: v.present,
      segmentBytes: v.sample?.segmentBytes ?? 0,
      peerBytes: rc(v)?.peerBytes ?? 0,
      originBytes: rc(v)?.originBytes ?? 0,
      uploadedBytes: rc(v)?.uploadedBytes ?? 0,
      deliveredPeerBytes: rc(v)?.deliveredPeerBytes ?? 0,
      stalls: v.sample?.stalls ?? 0,
      stalledSec: round(v.sample?.stalledSec ?? 0, 2),
      stallLog: v.sample?.stallLog ?? [],
      slowLog: v.sample?.slowLog ?? [],
      openedSec: round(v.openedSec, 1),
      firstPlayingSec: v.sample?.firstPlayingSec ?? null,
      longTaskSec: v.sample?.longTaskSec ?? 0,
      latencySecMedian: roundOrNull(median(latencies.get(v.id) ?? []), 2),
      mediaClockRate: roundOrNull(clockRates.get(v.id) ?? null, 3),
      controlled: v.sample?.controlled ?? false,
      playing: v.present ? playingAtEnd(v) : false,
      lastBanReason: rc(v)?.lastBanReason ?? null,
      segmentsChecked: o.integrityOf?.get(v.id)?.checked ?? 0,
      corruptedDelivered: o.integrityOf?.get(v.id)?.corrupted ?? 0,
      slowRequests: rc(v)?.slowRequests ?? [],
    })),
    events: o.events ?? [],
    cpuBusy: { p50: quantile(cpuSamples, 0.5), p90: quantile(cpuSamples, 0.9) },
    timeline: ticks.map((t) => ({
      tSec: round(t.tSec, 1),
      cpuBusy: t.cpuBusy,
      originSegmentBytes: t.originSegmentBytes,
      segmentBytesToPlayers: bytesAt(t),
      peerSegmentBytes: sum(t.viewers.map((v) => rc(v)?.deliveredPeerBytes ?? 0)),
      playing: t.viewers.filter((v) => v.present && v.sample?.playing).length,
    })),
  };
}
