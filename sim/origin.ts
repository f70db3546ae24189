import { createHash } from 'node:crypto';
import type { Verdict } from '../client/core/integrity.js';
import { LEAF_BYTES, pieceCount, pieceSpan } from '../protocol/pieces.js';
import type { ByteRange } from '../protocol/segment-id.js';
import type { PlaylistSegment, PlaylistUpdate } from '../protocol/worker.js';
import type { Scheduler } from './scheduler.js';

/**
 * The live source and the origin (a CDN: never a bottleneck). Segment `seq`
 * covers media time [seq * segmentSec, (seq + 1) * segmentSec) and can be fetched
 * from the moment it is complete. The origin counts every segment byte it serves.
 */
export interface LiveConfig {
  readonly segmentMs: number;
  readonly windowSegments: number;
  /** Segment size on the wire (virtual bytes). */
  readonly segmentBytes: number;
  /** Real bytes carried in memory per segment. */
  readonly realBytes: number;
  /** One-way latency between any viewer and the origin. */
  readonly originLatencyMs: number;
  /** Real bytes per piece (the pages' piece size, scaled like every byte: one 64 KiB frame on the wire). */
  readonly pieceBytes: number;
}

export const SWARM_ID = 'http://origin.sim/live/index.m3u8';
const FIRST_SEQ = 1000;

/**
 * Why a fetch was made: a stripe head's stripes, an owner's whole segment for the swarm, a
 * player's at startup, a player's after a miss, a page's for the pieces no peer delivered.
 */
export type OriginKind = 'head' | 'owner' | 'startup' | 'miss' | 'fill';

export class Origin {
  private readonly bytesBySeq = new Map<number, Uint8Array>();
  /** Virtual segment bytes served, in total and of the counted segments (`counts`), by why they were fetched. */
  servedBytes = 0;
  readonly windowBytes: Record<OriginKind, number> = { head: 0, owner: 0, startup: 0, miss: 0, fill: 0 };
  readonly windowRequests: Record<OriginKind, number> = { head: 0, owner: 0, startup: 0, miss: 0, fill: 0 };
  private readonly lists = new Map<number, { list: Buffer; root: Buffer }>();
  /** Reassembled peer copies that differed from the origin's bytes (must stay 0). */
  corruptCopies = 0;
  /** Miss fetches by the Swarm's miss reason. */
  readonly windowMissReasons = new Map<string, number>();

  constructor(
    private readonly sched: Scheduler,
    readonly cfg: LiveConfig,
    /** The bytes of a segment available at this time count toward offload (Metrics.countsSegment). */
    private readonly counts: (availableAtMs: number) => boolean,
  ) {}

  /** Newest complete segment at virtual time `t` (segment FIRST_SEQ completes at t = 0). */
  newestSeq(t: number): number {
    return FIRST_SEQ + Math.floor(t / this.cfg.segmentMs);
  }

  /** Media seconds of the live edge (end of the newest complete segment) at `t`. */
  edgeSec(t: number): number {
    return ((this.newestSeq(t) + 1) * this.cfg.segmentMs) / 1000;
  }

  /** When segment `seq` could first be fetched (virtual ms). */
  availableAtMs(seq: number): number {
    return (seq - FIRST_SEQ) * this.cfg.segmentMs;
  }

  url(seq: number): string {
    return `http://origin.sim/live/seg_${seq}.ts`;
  }

  seqOf(id: string): number {
    return Number(id.slice(id.lastIndexOf('_') + 1, -3));
  }

  playlist(t: number): PlaylistUpdate {
    const newest = this.newestSeq(t);
    const segments: PlaylistSegment[] = [];
    for (let s = newest - this.cfg.windowSegments + 1; s <= newest; s++) {
      const url = this.url(s);
      segments.push({ id: url, url, seq: s, durationSec: this.cfg.segmentMs / 1000 });
    }
    return { type: 'rc-playlist', swarm: SWARM_ID, targetDurationSec: this.cfg.segmentMs / 1000, live: true, integrity: true, segments };
  }

  /**
   * A viewer fetches segment `seq` (or `part` of it: offsets into its real bytes): the request
   * takes one latency, the answer one latency plus the transfer at the viewer's downlink.
   * Counted when served, in virtual bytes.
   */
  fetch(seq: number, downlinkBytesPerSec: number, kind: OriginKind, missReason?: string, part?: ByteRange): Promise<Uint8Array | undefined> {
    return new Promise((resolve) => {
      this.sched.after(this.cfg.originLatencyMs, () => {
        const t = this.sched.now();
        if (seq > this.newestSeq(t)) return resolve(undefined);
        const whole = this.content(seq);
        if (part && (part.start < 0 || part.end >= whole.length || part.end < part.start)) return resolve(undefined);
        const bytes = part ? whole.subarray(part.start, part.end + 1) : whole;
        const virtual = part ? Math.round((bytes.length / whole.length) * this.cfg.segmentBytes) : this.cfg.segmentBytes;
        this.servedBytes += virtual;
        if (this.counts(this.availableAtMs(seq))) {
          this.windowBytes[kind] += virtual;
          this.windowRequests[kind]++;
          if (missReason !== undefined) this.windowMissReasons.set(missReason, (this.windowMissReasons.get(missReason) ?? 0) + 1);
        }
        const ms = this.cfg.originLatencyMs + (virtual * 1000) / downlinkBytesPerSec;
        this.sched.after(ms, () => resolve(bytes));
      });
    });
  }

  /** A stored copy of `seq` must be the origin's bytes: a difference is a fault of the simulation or the client. */
  check(seq: number, bytes: Uint8Array): void {
    const b = this.bytesBySeq.get(seq) ?? this.content(seq);
    if (!Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) this.corruptCopies++;
  }

  /** A hash list from a peer against the piece root the origin publishes for the segment (protocol/pieces.ts). */
  checkList(id: string, list: Uint8Array): Verdict {
    return createHash('sha256').update(list).digest().equals(this.published(this.seqOf(id)).root) ? 'ok' : 'mismatch';
  }

  /**
   * What the adapter publishes of a listed segment (its size in real bytes and its hash list), as
   * a page's lookup gets it: one round trip to the origin. Undefined before the segment exists.
   */
  describe(id: string): Promise<{ bytes: number; list: Uint8Array } | undefined> {
    const seq = this.seqOf(id);
    return new Promise((resolve) => {
      this.sched.after(2 * this.cfg.originLatencyMs, () => {
        if (seq > this.newestSeq(this.sched.now() - this.cfg.originLatencyMs)) return resolve(undefined);
        resolve({ bytes: this.cfg.realBytes, list: new Uint8Array(this.published(seq).list) });
      });
    });
  }

  private published(seq: number): { list: Buffer; root: Buffer } {
    let p = this.lists.get(seq);
    if (!p) {
      const b = this.content(seq);
      const list = Buffer.alloc(pieceCount(b.length, this.cfg.pieceBytes) * LEAF_BYTES);
      for (let i = 0; i * LEAF_BYTES < list.length; i++) {
        const { start, end } = pieceSpan(i, b.length, this.cfg.pieceBytes);
        createHash('sha256').update(b.subarray(start, end)).digest().copy(list, i * LEAF_BYTES);
      }
      p = { list, root: createHash('sha256').update(list).digest() };
      this.lists.set(seq, p);
      for (const k of this.lists.keys()) if (k < seq - 64) this.lists.delete(k);
    }
    return p;
  }

  /** The real bytes of a segment: one shared buffer per segment. */
  private content(seq: number): Uint8Array {
    let b = this.bytesBySeq.get(seq);
    if (!b) {
      b = new Uint8Array(this.cfg.realBytes);
      for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seq) & 0xff;
      this.bytesBySeq.set(seq, b);
      for (const k of this.bytesBySeq.keys()) if (k < seq - 64) this.bytesBySeq.delete(k);
    }
    return b;
  }
}
