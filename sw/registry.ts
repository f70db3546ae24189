import { addBounded, putBounded } from '../protocol/bounded.js';
import type { PlaylistControl } from './control.js';
import type { MediaSegment } from './manifest/hls-playlist.js';

const MAX_PLAYLISTS = 256;
const MAX_SWARMS = 256;
const MAX_TOTALS = 1024;

export interface KnownSegment extends MediaSegment {
  readonly swarm: string;
  /** From a live manifest (sliding window) or a VOD one. */
  readonly live: boolean;
}

/** What the manifest said about a swarm as a whole, kept to describe its windows to the page later. */
export interface SwarmMeta {
  /** The manifest it was last learned from, as requested (with its query): what a refresh reads. */
  readonly manifestUrl: string;
  readonly live: boolean;
  readonly targetDurationSec: number;
  readonly control: PlaylistControl;
}

interface SwarmEntry {
  readonly segments: readonly KnownSegment[];
  readonly meta: SwarmMeta;
}

/**
 * What the worker learned from manifests: which URLs are manifests and which
 * requests are segments of which swarm. A segment is keyed by its request:
 * the URL, plus `|start-end` for a byte range. Bounded; forgotten entries
 * simply pass through to the network (the worker intercepts only what it knows).
 */
export class Registry {
  private readonly segments = new Map<string, KnownSegment>();
  private readonly playlists = new Set<string>();
  /** Manifests whose contents this worker has read (the rest are only known by URL). */
  private readonly learned = new Set<string>();
  /** Each swarm's segments in playlist order (VOD windows follow the player through these). */
  private readonly swarms = new Map<string, SwarmEntry>();
  /** Full size of a resource served in byte ranges, from an origin Content-Range. */
  private readonly totals = new Map<string, number>();

  constructor(private readonly maxSegments: number) {}

  isPlaylist(url: string): boolean {
    return this.playlists.has(url) || /\.(m3u8|mpd)$/i.test(new URL(url).pathname);
  }

  addPlaylist(url: string): void {
    addBounded(this.playlists, url, MAX_PLAYLISTS);
  }

  markLearned(url: string): void {
    addBounded(this.learned, url, MAX_PLAYLISTS);
  }

  isLearned(url: string): boolean {
    return this.learned.has(url);
  }

  /** Replaces what a manifest says about one swarm. */
  setSwarm(swarm: string, segs: readonly KnownSegment[], meta: SwarmMeta): void {
    for (const s of segs) {
      // Re-inserting moves the key to the end, so eviction drops the least recently listed.
      putBounded(this.segments, requestKey(s.url, s.range), s, this.maxSegments);
    }
    putBounded(this.swarms, swarm, { segments: segs, meta }, MAX_SWARMS);
  }

  /** Kill switch: forget every segment so none is intercepted any more. */
  clearSegments(): void {
    this.segments.clear();
    this.swarms.clear();
    this.learned.clear();
  }

  segment(url: string, range?: { readonly start: number; readonly end: number }): KnownSegment | undefined {
    return this.segments.get(requestKey(url, range));
  }

  /** Up to `count` segments of `seg`'s swarm starting at `seg` (VOD: what the player will ask for next). */
  window(seg: KnownSegment, count: number): readonly KnownSegment[] {
    const list = this.swarms.get(seg.swarm)?.segments ?? [];
    const i = list.findIndex((s) => s.id === seg.id);
    return i < 0 ? [seg] : list.slice(i, i + count);
  }

  meta(swarm: string): SwarmMeta | undefined {
    return this.swarms.get(swarm)?.meta;
  }

  /** The newest `count` segments of a swarm, in order. */
  tail(swarm: string, count: number): readonly KnownSegment[] {
    return this.swarms.get(swarm)?.segments.slice(-count) ?? [];
  }

  setTotal(url: string, total: number): void {
    putBounded(this.totals, url, total, MAX_TOTALS);
  }

  total(url: string): number | undefined {
    return this.totals.get(url);
  }

  get size(): number {
    return this.segments.size;
  }
}

function requestKey(url: string, range: { readonly start: number; readonly end: number } | undefined): string {
  return range === undefined ? url : `${url}|${range.start}-${range.end}`;
}
