/**
 * How long a peer fetch may take, read from the real <video> buffers: the
 * player is unaffected by a slow segment as long as what it has buffered
 * ahead of the playhead lasts. Player-agnostic: no player API is used.
 */
export interface MediaLike {
  readonly currentTime: number;
  readonly playbackRate: number;
  readonly paused: boolean;
  readonly readyState: number;
  readonly buffered: { readonly length: number; start(i: number): number; end(i: number): number };
}

/** Seconds buffered ahead of the playhead of the best-fed media element (0 when none is playing). */
export function bufferAheadSec(media: readonly MediaLike[]): number {
  let best = 0;
  for (const m of media) {
    const t = m.currentTime;
    for (let i = 0; i < m.buffered.length; i++) {
      // A small tolerance: players often sit a few ms before a range start after a seek.
      if (m.buffered.start(i) <= t + 0.1 && t < m.buffered.end(i)) {
        best = Math.max(best, m.buffered.end(i) - t);
      }
    }
  }
  return best;
}

/** Milliseconds of playback the best-fed media element has buffered (at its playback rate): what a peer fetch may spend, less a margin. */
export function mediaBufferMs(media: readonly MediaLike[]): number {
  const rate = Math.max(1, ...media.filter((m) => !m.paused).map((m) => m.playbackRate));
  return (bufferAheadSec(media) * 1000) / rate;
}

/** Time a peer may take for a segment the player asked for; 0 means "origin now" (startup, empty buffer). */
export function peerDeadlineMs(bufferMs: number, cfg: { readonly safetyMarginMs: number; readonly maxPeerWaitMs: number }, workerCapMs: number): number {
  return Math.max(0, Math.min(bufferMs - cfg.safetyMarginMs, cfg.maxPeerWaitMs, workerCapMs));
}
