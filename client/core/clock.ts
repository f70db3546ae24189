/**
 * Time as a parameter: the page uses the real clock; the simulator and tests
 * pass a virtual one, so the same scheduling code runs in virtual time.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  // Monotonic: a wall-clock change must not stretch or cut a deadline.
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
