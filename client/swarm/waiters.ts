import type { Clock } from '../core/clock.js';

/** Promises waiting for something to happen to a key (a segment announced), each with a timeout. */
export class Waiters {
  private readonly byKey = new Map<string, Set<() => void>>();

  /** Resolves true when `key` is woken within `timeoutMs`, false otherwise. */
  wait(clock: Clock, key: string, timeoutMs: number): Promise<boolean> {
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let set = this.byKey.get(key);
      if (!set) this.byKey.set(key, (set = new Set()));
      const s = set;
      const done = (v: boolean): void => {
        clock.clearTimeout(timer);
        s.delete(wake);
        if (s.size === 0 && this.byKey.get(key) === s) this.byKey.delete(key);
        resolve(v);
      };
      const wake = (): void => done(true);
      const timer = clock.setTimeout(() => done(false), timeoutMs);
      s.add(wake);
    });
  }

  wake(key: string): void {
    const s = this.byKey.get(key);
    if (s) for (const w of [...s]) w();
  }

  wakeAll(): void {
    for (const s of [...this.byKey.values()]) for (const w of [...s]) w();
  }
}

/** `p`, or undefined after `ms`. */
export function raceTimeout<T>(clock: Clock, p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = clock.setTimeout(() => resolve(undefined), Math.max(0, ms));
    p.then(
      (v) => {
        clock.clearTimeout(t);
        resolve(v);
      },
      () => {
        clock.clearTimeout(t);
        resolve(undefined);
      },
    );
  });
}
