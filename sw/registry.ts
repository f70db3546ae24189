import type { MediaSegment } from './hls-playlist.js';

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
    this.playlists.add(url);
    if (this.playlists.size > 256) {
      const first = this.playlists.values().next();
      if (!first.done) this.playlists.delete(first.value);
    }
  }

  addSegment(seg: KnownSegment): void {
    // Re-inserting moves the key to the end, so eviction drops the least recently listed.
    this.segments.delete(seg.url);
    this.segments.set(seg.url, seg);
    while (this.segments.size > this.maxSegments) {
      const first = this.segments.keys().next();
      if (first.done) break;
      this.segments.delete(first.value);
    }
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
