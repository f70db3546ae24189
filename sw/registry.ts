import { addBounded, putBounded } from '../protocol/bounded.js';
import type { MediaSegment } from './hls-playlist.js';

const MAX_PLAYLISTS = 256;

export interface KnownSegment extends MediaSegment {
  readonly swarm: string;
}

/**
 * What the worker learned from playlists: which URLs are playlists and which
 * are segments of which swarm. Bounded; forgotten entries simply pass through
 * to the network (the worker intercepts only what it knows).
 */
export class Registry {
  private readonly segments = new Map<string, KnownSegment>();
  private readonly playlists = new Set<string>();

  constructor(private readonly maxSegments: number) {}

  isPlaylist(url: string): boolean {
    return this.playlists.has(url) || /\.m3u8$/i.test(new URL(url).pathname);
  }

  addPlaylist(url: string): void {
    addBounded(this.playlists, url, MAX_PLAYLISTS);
  }

  addSegment(seg: KnownSegment): void {
    // Re-inserting moves the key to the end, so eviction drops the least recently listed.
    putBounded(this.segments, seg.url, seg, this.maxSegments);
  }

  /** Kill switch: forget every segment so none is intercepted any more. */
  clearSegments(): void {
    this.segments.clear();
  }

  segment(url: string): KnownSegment | undefined {
    return this.segments.get(url);
  }

  /** Byte-range sub-segments are not indexed by URL alone; the worker passes them through. */
  get size(): number {
    return this.segments.size;
  }
}
