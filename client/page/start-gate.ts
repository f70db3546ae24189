/** What the gate reads from the page (a Document, or a fake in tests). */
export interface MediaPage {
  addEventListener(type: 'playing', listener: () => void, capture: boolean): void;
  removeEventListener(type: 'playing', listener: () => void, capture: boolean): void;
  querySelectorAll(selectors: 'video, audio'): ArrayLike<{ readonly paused: boolean; readonly readyState: number }>;
}

/** HTMLMediaElement.HAVE_FUTURE_DATA: the element has enough to play. */
const HAVE_FUTURE_DATA = 3;

/**
 * Resolves once any video or audio element of the page plays (its first `playing` event, seen
 * in the capture phase so any player works); at once when `maxWaitMs` is 0 or something already
 * plays. After `maxWaitMs` it resolves only if the page shows no media element at all (a player
 * inside a shadow root, whose events do not reach the document). A page whose video is there but
 * has not started keeps waiting: measured on 2 cores, late joiners whose players were still
 * struggling to start opened their mesh at the fallback, and some never played (hls.js's audio
 * loading stalled for good while its CPU went to a dozen handshakes). Player-agnostic, like the
 * peer deadline.
 */
export function whenPlaying(
  page: MediaPage,
  maxWaitMs: number,
  timers: { setTimeout(f: () => void, ms: number): unknown; clearTimeout(t: unknown): void } = {
    setTimeout: (f, ms) => setTimeout(f, ms),
    clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
  },
): Promise<void> {
  if (maxWaitMs <= 0) return Promise.resolve();
  const media = page.querySelectorAll('video, audio');
  for (let i = 0; i < media.length; i++) {
    const m = media[i];
    if (m && !m.paused && m.readyState >= HAVE_FUTURE_DATA) return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = (): void => {
      timers.clearTimeout(timer);
      page.removeEventListener('playing', done, true);
      resolve();
    };
    const fallback = (): void => {
      if (page.querySelectorAll('video, audio').length === 0) done();
    };
    const timer = timers.setTimeout(fallback, maxWaitMs);
    page.addEventListener('playing', done, true);
  });
}
