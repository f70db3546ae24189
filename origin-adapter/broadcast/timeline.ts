/**
 * A broadcast's segments across the ffmpeg runs ("epochs") its source causes: each time the
 * streamer reconnects, a new run starts with segment numbers from 1, a new init segment and a
 * new clock. The timeline gives every segment a number that never repeats (the HLS media
 * sequence), counts the discontinuities, places each run in one wall clock (the DASH Period's
 * start, the HLS program date), and keeps the newest `windowSegments` of each representation
 * listed while the source is away, so playlists stay valid and players wait. Pure: no I/O.
 */
import type { EpochManifest, RepInfo, Segment } from './epoch-mpd.js';

export interface TimelineOptions {
  /** Segments listed per representation. */
  readonly windowSegments: number;
  /** Segments kept past the window before an epoch's files may go (a player may still fetch one just listed). */
  readonly graceSegments: number;
}

interface RepState {
  info: RepInfo;
  /** Newest last; at most windowSegments + graceSegments. */
  segs: Segment[];
  /** Media sequence of the epoch's first segment of this representation, and that segment's number. */
  firstSeq: number;
  firstNumber: number;
  /** Discontinuities before this epoch in this representation's playlist. */
  ordinal: number;
}

interface EpochState {
  readonly epoch: number;
  astMs: number;
  /** Once it has segments: its DASH Period's start (ms after the broadcast's availabilityStartTime) and the media time it starts at (ms). */
  placed: { readonly startMs: number; readonly ptoMs: number } | undefined;
  readonly reps: Map<string, RepState>;
  ended: boolean;
}

export interface ListedSegment {
  readonly seg: Segment;
  /** HLS media sequence number. */
  readonly seq: number;
  /** Wall clock at which the segment starts (Unix ms). */
  readonly wallMs: number;
}

/** One epoch's part of a representation's window. */
export interface WindowGroup {
  readonly epoch: number;
  readonly rep: RepInfo;
  readonly ordinal: number;
  readonly segments: readonly ListedSegment[];
}

/** An epoch as a DASH Period. */
export interface PeriodView {
  readonly epoch: number;
  /** Period@start, ms after availabilityStartTime. */
  readonly startMs: number;
  readonly reps: readonly { readonly rep: RepInfo; readonly ptoTicks: number; readonly segments: readonly Segment[] }[];
}

const endTicks = (s: Segment): number => s.t + s.d;

export class Timeline {
  private readonly epochs: EpochState[] = [];
  /** availabilityStartTime of the broadcast: the first epoch's. */
  private astMs: number | undefined;
  private readonly lastSeq = new Map<string, number>();
  private readonly discontinuities = new Map<string, number>();

  constructor(private readonly o: TimelineOptions) {}

  get availabilityStartMs(): number | undefined {
    return this.astMs;
  }

  /** Merges what epoch `epoch`'s MPD lists now. `nowMs` stands in for a missing availabilityStartTime. */
  update(epoch: number, m: EpochManifest, nowMs: number): void {
    let e = this.epochs.find((x) => x.epoch === epoch);
    if (e === undefined) {
      for (const old of this.epochs) old.ended = true; // one run at a time: a new one seals the others
      e = { epoch, astMs: m.astMs ?? nowMs, placed: undefined, reps: new Map(), ended: false };
      this.epochs.push(e);
    } else if (m.astMs !== undefined && e.placed === undefined) {
      e.astMs = m.astMs;
    }
    const keep = this.o.windowSegments + this.o.graceSegments;
    for (const rep of m.reps) {
      const { segments, ...info } = rep;
      const rs = e.reps.get(rep.id);
      const last = rs?.segs[rs.segs.length - 1]?.number ?? -Infinity;
      const fresh = segments.filter((s) => s.number > last);
      if (rs === undefined) {
        if (fresh.length === 0) continue;
        const first = fresh[0];
        if (first === undefined) continue;
        const ordinal = this.discontinuities.get(rep.id) ?? 0;
        this.discontinuities.set(rep.id, ordinal + 1);
        e.reps.set(rep.id, { info, segs: fresh.slice(-keep), firstSeq: (this.lastSeq.get(rep.id) ?? 0) + 1, firstNumber: first.number, ordinal });
      } else {
        rs.info = info;
        rs.segs = [...rs.segs, ...fresh].slice(-keep);
      }
      const now = e.reps.get(rep.id);
      const newest = now?.segs[now.segs.length - 1];
      if (now !== undefined && newest !== undefined) this.lastSeq.set(rep.id, now.firstSeq + newest.number - now.firstNumber);
    }
    this.place(e);
  }

  /** The epoch's run is over (its source left): nothing more will be listed for it. */
  end(epoch: number): void {
    const e = this.epochs.find((x) => x.epoch === epoch);
    if (e) e.ended = true;
  }

  /**
   * Places an epoch's Period once it has segments: right where the Period before it ends, so
   * the DASH presentation has no gap while the source was away. dash.js 5 waits at the end of a
   * Period whose media stops short of the next one's start, and never plays on. The Period's
   * presentationTimeOffset is the epoch's earliest media time, the same for every
   * representation, so audio and video keep their offset. HLS dates segments by the wall clock.
   */
  private place(e: EpochState): void {
    if (e.placed !== undefined || e.reps.size === 0) return;
    this.astMs ??= e.astMs;
    const ptoMs = Math.min(...[...e.reps.values()].map((r) => ((r.segs[0]?.t ?? 0) / r.info.timescale) * 1000));
    const prev = this.epochs.filter((x) => x !== e && x.placed !== undefined).pop();
    const startMs = prev?.placed === undefined ? e.astMs - this.astMs + ptoMs : prev.placed.startMs + this.mediaMs(prev) - prev.placed.ptoMs;
    e.placed = { startMs, ptoMs };
  }

  /** Where an epoch's newest media ends, in its media time (ms). */
  private mediaMs(e: EpochState): number {
    let end = 0;
    for (const r of e.reps.values()) {
      const last = r.segs[r.segs.length - 1];
      if (last !== undefined) end = Math.max(end, (endTicks(last) / r.info.timescale) * 1000);
    }
    return end;
  }

  /** Representation ids, the newest epoch's first (video before audio, as ffmpeg numbers them). */
  reps(): RepInfo[] {
    const seen = new Map<string, RepInfo>();
    for (const e of [...this.epochs].reverse()) for (const r of e.reps.values()) if (!seen.has(r.info.id)) seen.set(r.info.id, r.info);
    return [...seen.values()].sort((a, b) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id));
  }

  hasSegments(): boolean {
    return this.epochs.some((e) => e.reps.size > 0);
  }

  /** The newest `n` segments of a representation across epochs, oldest first, grouped by epoch. */
  private newest(repId: string, n: number): { e: EpochState; rs: RepState; segs: Segment[] }[] {
    const out: { e: EpochState; rs: RepState; segs: Segment[] }[] = [];
    let left = n;
    for (let i = this.epochs.length - 1; i >= 0 && left > 0; i--) {
      const e = this.epochs[i];
      const rs = e?.reps.get(repId);
      if (e === undefined || rs === undefined || rs.segs.length === 0) continue;
      const segs = rs.segs.slice(-left);
      left -= segs.length;
      out.unshift({ e, rs, segs });
    }
    return out;
  }

  /** What a representation's playlist lists: its newest `windowSegments`, oldest first. */
  window(repId: string): WindowGroup[] {
    return this.newest(repId, this.o.windowSegments).map(({ e, rs, segs }) => ({
      epoch: e.epoch,
      rep: rs.info,
      ordinal: rs.ordinal,
      segments: segs.map((seg) => ({ seg, seq: rs.firstSeq + seg.number - rs.firstNumber, wallMs: e.astMs + (seg.t / rs.info.timescale) * 1000 })),
    }));
  }

  /** The epochs in any representation's window, as DASH Periods, oldest first. */
  periods(): PeriodView[] {
    const listed = new Map<number, Map<string, Segment[]>>();
    for (const r of this.reps()) {
      for (const g of this.window(r.id)) {
        const byRep = listed.get(g.epoch) ?? new Map<string, Segment[]>();
        byRep.set(r.id, g.segments.map((s) => s.seg));
        listed.set(g.epoch, byRep);
      }
    }
    const out: PeriodView[] = [];
    for (const e of this.epochs) {
      const byRep = listed.get(e.epoch);
      const placed = e.placed;
      if (byRep === undefined || placed === undefined) continue;
      const reps = [...byRep.entries()].flatMap(([id, segments]) => {
        const rs = e.reps.get(id);
        return rs ? [{ rep: rs.info, ptoTicks: Math.round((placed.ptoMs / 1000) * rs.info.timescale), segments }] : [];
      });
      out.push({ epoch: e.epoch, startMs: placed.startMs, reps });
    }
    return out;
  }

  /** The newest `n` segment file names of each representation (for the hashes a manifest carries). */
  newestFiles(n: number): { epoch: number; name: string }[] {
    return this.reps().flatMap((r) => this.newest(r.id, n).flatMap(({ e, segs }) => segs.map((s) => ({ epoch: e.epoch, name: s.name }))));
  }

  /**
   * Drops ended epochs none of whose segments is among any representation's newest
   * window + grace; returns their numbers, so their files can be removed.
   */
  prune(): number[] {
    const keep = new Set<number>();
    for (const r of this.reps()) for (const { e } of this.newest(r.id, this.o.windowSegments + this.o.graceSegments)) keep.add(e.epoch);
    const gone = this.epochs.filter((e) => e.ended && !keep.has(e.epoch)).map((e) => e.epoch);
    for (const n of gone) this.epochs.splice(this.epochs.findIndex((e) => e.epoch === n), 1);
    return gone;
  }

  /** Epoch numbers the timeline holds. */
  epochNumbers(): number[] {
    return this.epochs.map((e) => e.epoch);
  }

  epochHasSegments(epoch: number): boolean {
    return this.epochs.some((e) => e.epoch === epoch && e.reps.size > 0);
  }
}
