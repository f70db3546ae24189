import type { Clock } from '../client/clock.js';

/**
 * Virtual time over a binary-heap event queue. `clock` is a client/clock.ts
 * `Clock`: the unchanged Swarm, PeerLink and UploadBudget read time and set
 * timers through it, so a run takes as long as its events, not its duration.
 */
interface Entry {
  readonly time: number;
  readonly seq: number;
  fn: (() => void) | undefined;
}

class Heap {
  private readonly a: Entry[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): Entry | undefined {
    return this.a[0];
  }

  push(e: Entry): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = a[p]!;
      if (!less(e, pe)) break;
      a[i] = pe;
      i = p;
    }
    a[i] = e;
  }

  pop(): Entry | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && less(a[r]!, a[l]!) ? r : l;
      if (!less(a[c]!, last)) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

function less(x: Entry, y: Entry): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}

export interface RunOptions {
  /** Stop before the first event later than this (virtual ms). */
  readonly untilMs: number;
  /**
   * Events within this many virtual ms of the first one of a batch run before the
   * batch's promise continuations (which then see the clock of the batch's last event).
   * 0 = one batch per distinct timestamp (exact, slower).
   */
  readonly quantumMs: number;
  /** Called after every batch, when all continuations have run. */
  readonly onBatch?: () => void;
}

export class Scheduler {
  private readonly heap = new Heap();
  private nowMs = 0;
  private seq = 0;
  /** Events run (cancelled timers are not counted). */
  events = 0;

  readonly clock: Clock = {
    now: () => this.nowMs,
    setTimeout: (fn, ms) => this.at(this.nowMs + Math.max(0, Number.isFinite(ms) ? ms : 0), fn),
    clearTimeout: (h) => {
      if (isEntry(h)) h.fn = undefined;
    },
  };

  now(): number {
    return this.nowMs;
  }

  /** Runs `fn` at virtual time `timeMs` (never earlier than now). Returns a handle for `cancel`. */
  at(timeMs: number, fn: () => void): unknown {
    const e: Entry = { time: Math.max(this.nowMs, timeMs), seq: this.seq++, fn };
    this.heap.push(e);
    return e;
  }

  after(ms: number, fn: () => void): unknown {
    return this.at(this.nowMs + ms, fn);
  }

  cancel(h: unknown): void {
    if (isEntry(h)) h.fn = undefined;
  }

  /** A virtual sleep (for UploadBudget). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  /**
   * Pops events in time order. After each batch, yields to the host event loop
   * (`setImmediate`), which first drains every pending microtask: all promise
   * chains the batch started run, at the batch's virtual time, before time advances,
   * and any timers they set are in the heap before the next pop.
   */
  async run(o: RunOptions): Promise<void> {
    for (;;) {
      const first = this.heap.peek();
      if (first === undefined || first.time > o.untilMs) break;
      const horizon = first.time + o.quantumMs;
      for (;;) {
        const e = this.heap.peek();
        if (e === undefined || e.time > horizon || e.time > o.untilMs) break;
        this.heap.pop();
        const fn = e.fn;
        if (fn === undefined) continue;
        e.fn = undefined;
        if (e.time > this.nowMs) this.nowMs = e.time;
        this.events++;
        fn();
      }
      await new Promise<void>((r) => setImmediate(r));
      o.onBatch?.();
    }
    if (o.untilMs > this.nowMs && Number.isFinite(o.untilMs)) this.nowMs = o.untilMs;
  }
}

function isEntry(h: unknown): h is Entry {
  return typeof h === 'object' && h !== null && 'seq' in h && 'time' in h;
}
