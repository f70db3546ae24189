/** How often the page checks its own timers. */
const TICK_MS = 250;
/** Lateness below this is ordinary timer jitter. */
const REPORT_OVER_MS = 200;

export interface Timers {
  now(): number;
  setInterval(f: () => void, ms: number): unknown;
  clearInterval(t: unknown): void;
}

const realTimers: Timers = {
  now: () => performance.now(),
  setInterval: (f, ms) => setInterval(f, ms),
  clearInterval: (t) => clearInterval(t as ReturnType<typeof setInterval>),
};

/**
 * Calls `onLag(ms)` when the page's event loop ran a timer `ms` late (over 200 ms): the page
 * is starved of CPU, and anything it still has to do for the player (an origin fallback, an
 * append) will be that late too. Returns a stop function.
 */
export function watchLag(onLag: (lateMs: number) => void, timers: Timers = realTimers): () => void {
  let expected = timers.now() + TICK_MS;
  const t = timers.setInterval(() => {
    const now = timers.now();
    const late = now - expected;
    expected = now + TICK_MS;
    if (late > REPORT_OVER_MS) onLag(late);
  }, TICK_MS);
  return () => timers.clearInterval(t);
}
