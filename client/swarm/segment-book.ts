import { putBounded } from '../../protocol/bounded.js';
import type { ByteRange } from '../../protocol/segment-id.js';
import type { PlaylistSegment, PlaylistUpdate } from '../../protocol/worker.js';

export interface Known {
  readonly url: string;
  readonly seq: number;
  readonly range?: ByteRange;
  readonly durationSec: number;
  /** When this page's playlist first listed it (clock ms). */
  readonly firstSeenMs: number;
}

/**
 * Segments kept in view. Live: the playlist window, also pruned by sequence (64 behind the
 * newest). VOD: the windows the worker sent as the player moved, oldest forgotten first.
 */
const MAX_KNOWN = 256;
const LIVE_BEHIND = 64;
/** Accept announcements of segments this far past the newest one our playlist listed (they are newer than our last refresh). */
const AHEAD_SEGMENTS = 4;

/**
 * What this page knows of a swarm's segments from its playlists: the live edge, each
 * segment's URL, range and duration, and the stream's bitrate as the stored copies show it.
 */
export class SegmentBook {
  private readonly known = new Map<string, Known>();
  targetDurationMs = 2000;
  /** A VOD swarm: no live edge; windows follow the player. */
  vod = false;
  newestSeq = -1;
  /** Stream bitrate estimate from stored segments and their playlist durations. */
  private storedBytesPerSec: number | undefined;
  /** Before any segment is stored: the size a peer announced for one, over its playlist duration. */
  private announcedBytesPerSec: number | undefined;

  /**
   * Takes a playlist; returns the live segments newer than any seen before (empty for VOD)
   * and whether this was the first live playlist.
   */
  update(p: PlaylistUpdate, nowMs: number): { fresh: PlaylistSegment[]; first: boolean } {
    this.targetDurationMs = Math.max(500, p.targetDurationSec * 1000);
    for (const s of p.segments) {
      const firstSeenMs = this.known.get(s.id)?.firstSeenMs ?? nowMs;
      putBounded(this.known, s.id, { url: s.url, seq: s.seq, durationSec: s.durationSec, firstSeenMs, ...(s.range ? { range: s.range } : {}) }, MAX_KNOWN);
    }
    if (!p.live) {
      this.vod = true;
      return { fresh: [], first: false };
    }
    const first = this.newestSeq < 0;
    const fresh = p.segments.filter((s) => s.seq > this.newestSeq);
    for (const [id, k] of this.known) if (k.seq < this.newestSeq - LIVE_BEHIND) this.known.delete(id);
    if (fresh.length > 0) this.newestSeq = Math.max(this.newestSeq, ...fresh.map((s) => s.seq));
    return { fresh, first };
  }

  get(id: string): Known | undefined {
    return this.known.get(id);
  }

  has(id: string): boolean {
    return this.known.has(id);
  }

  /** Worth getting before the player asks: live, from one before the newest to a few past it; VOD, what the windows listed. */
  wanted(id: string, seq: number): boolean {
    if (this.vod) return this.known.has(id);
    if (this.newestSeq < 0) return false;
    return seq >= this.newestSeq - 1 && seq <= this.newestSeq + AHEAD_SEGMENTS;
  }

  /**
   * Live: a segment a peer announced before this page's playlist lists it, worth getting: one of
   * the next few, and in the same directory as the newest segment listed (its id up to the last
   * '/' alike), so only the stream's own segment names pass.
   */
  plausible(id: string, seq: number): boolean {
    if (this.vod || this.newestSeq < 0 || seq <= this.newestSeq || seq > this.newestSeq + AHEAD_SEGMENTS) return false;
    const dir = id.slice(0, id.lastIndexOf('/') + 1);
    if (dir.length === 0) return false;
    for (const k of this.known.keys()) if (k.startsWith(dir) && k.indexOf('/', dir.length) < 0) return true;
    return false;
  }

  /** A copy of `bytes` was stored: the bitrate estimate follows it. */
  onStored(id: string, bytes: number): void {
    const dur = this.known.get(id)?.durationSec;
    if (dur === undefined || dur <= 0) return;
    const r = bytes / dur;
    this.storedBytesPerSec = this.storedBytesPerSec === undefined ? r : 0.8 * this.storedBytesPerSec + 0.2 * r;
  }

  /** A peer announced `bytes` for `id`: a first estimate before anything is stored. */
  onAnnounced(id: string, bytes: number): void {
    if (this.announcedBytesPerSec !== undefined) return;
    const dur = this.known.get(id)?.durationSec;
    if (dur !== undefined && dur > 0) this.announcedBytesPerSec = bytes / dur;
  }

  /** Stream bitrate in bytes/s (0 before anything is known). */
  get bytesPerSec(): number {
    return this.storedBytesPerSec ?? this.announcedBytesPerSec ?? 0;
  }
}
