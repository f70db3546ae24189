/**
 * A live HLS player as hls.js behaves by default: it starts `liveSyncSegments`
 * segments behind the live edge, loads one segment at a time as soon as it is
 * listed, and plays continuously; a segment missing when the playhead reaches
 * it is a stall, and the player waits (its distance to the live edge grows).
 */
export interface PlayerConfig {
  readonly segmentMs: number;
  /** hls.js liveSyncDurationCount. */
  readonly liveSyncSegments: number;
}

export interface PlayerHost {
  now(): number;
  after(ms: number, fn: () => void): void;
  /** Loads a segment through the service worker path, with `bufferAheadMs` buffered (the page reads it off the media element); resolves when the player has its bytes. */
  load(seq: number, bufferAheadMs: number): Promise<void>;
  /** A segment boundary was crossed: `ok` false means a stall began. */
  onPlay(ok: boolean): void;
  onStallEnd(stalledMs: number): void;
  alive(): boolean;
}

export class Player {
  private newestListed = -1;
  private nextLoad = -1;
  private loading = false;
  private loadedUpTo = -1;
  private startSeq = -1;
  private cur = -1;
  private curStartMs = 0;
  private started = false;
  private stalled = false;
  private stallStartMs = 0;

  constructor(
    private readonly cfg: PlayerConfig,
    private readonly host: PlayerHost,
  ) {}

  get playing(): boolean {
    return this.started;
  }

  /** The player's playlist refresh saw `newest` as the last segment. */
  onPlaylist(newest: number): void {
    if (this.nextLoad < 0) {
      this.startSeq = newest - this.cfg.liveSyncSegments + 1;
      this.nextLoad = this.startSeq;
    }
    this.newestListed = Math.max(this.newestListed, newest);
    this.pump();
  }

  /** Media position in ms, or undefined before playback started. */
  playheadMs(now: number): number | undefined {
    if (!this.started) return undefined;
    return this.cur * this.cfg.segmentMs + (this.stalled ? this.cfg.segmentMs : Math.min(this.cfg.segmentMs, now - this.curStartMs));
  }

  /** Media buffered ahead of the playhead (what client/deadline.ts reads from <video>). */
  bufferAheadMs(now: number): number {
    const head = this.playheadMs(now);
    if (head === undefined) return 0;
    return Math.max(0, (this.loadedUpTo + 1) * this.cfg.segmentMs - head);
  }

  private pump(): void {
    if (this.loading || this.nextLoad < 0 || this.nextLoad > this.newestListed || !this.host.alive()) return;
    const seq = this.nextLoad;
    this.loading = true;
    void this.host.load(seq, this.bufferAheadMs(this.host.now())).then(() => {
      this.loading = false;
      if (!this.host.alive()) return;
      this.loadedUpTo = seq;
      this.nextLoad = seq + 1;
      this.onLoaded(seq);
      this.pump();
    });
  }

  private onLoaded(seq: number): void {
    const now = this.host.now();
    if (!this.started && seq === this.startSeq) {
      this.started = true;
      this.cur = seq;
      this.curStartMs = now;
      this.scheduleBoundary();
    } else if (this.stalled && seq === this.cur + 1) {
      this.stalled = false;
      this.host.onStallEnd(now - this.stallStartMs);
      this.cur = seq;
      this.curStartMs = now;
      this.scheduleBoundary();
    }
  }

  private scheduleBoundary(): void {
    this.host.after(this.cfg.segmentMs, () => this.boundary());
  }

  private boundary(): void {
    if (!this.host.alive()) return;
    const next = this.cur + 1;
    const ok = this.loadedUpTo >= next;
    this.host.onPlay(ok);
    if (ok) {
      this.cur = next;
      this.curStartMs = this.host.now();
      this.scheduleBoundary();
    } else {
      this.stalled = true;
      this.stallStartMs = this.host.now();
    }
  }
}
