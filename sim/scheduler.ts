import type { Clock } from '../client/core/clock.js';

/**
 * Virtual time over a binary-heap event queue. `clock` is a client/clock.ts
 * `Clock`: the unchanged Swarm, PeerLink and UploadBudget read time and set
 * timers through it, so a run takes as long as its events, not its duration.
 */
/** A pending event; `pos` is its index in the heap (-1 once run or cancelled). */
class Entry {
  constructor(
    public time: number,
    public seq: number,
    public fn: (() => void) | undefined,
    public pos: number,
  ) {}
}

/**
 * Binary min-heap on (time, seq) that knows where each entry sits, so a cancelled
 * timer leaves the heap at once and a moved one is sifted in place (no dead
 * entries pile up: the network moves its delivery timers whenever an uplink's
 * share changes).
 */
class Heap {
  private readonly a: Entry[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): Entry | undefined {
    return this.a[0];
  }

  push(e: Entry): void {
    e.pos = this.a.length;
    this.a.push(e);
    this.up(e.pos);
  }

  pop(): Entry | undefined {
    const top = this.a[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(e: Entry): void {
    const a = this.a;
    const i = e.pos;
    if (i < 0 || a[i] !== e) return;
    e.pos = -1;
    const last = a.pop()!;
    if (last === e) return;
    a[i] = last;
    last.pos = i;
    this.fix(i);
  }

  /** Restores order around `i` after its key changed. */
  fix(i: number): void {
    if (i > 0 && less(this.a[i]!, this.a[(i - 1) >> 1]!)) this.up(i);
    else this.down(i);
  }

  private up(i: number): void {
    const a = this.a;
    const e = a[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = a[p]!;
      if (!less(e, pe)) break;
      a[i] = pe;
      pe.pos = i;
      i = p;
    }
    a[i] = e;
    e.pos = i;
  }

  private down(i: number): void {
    const a = this.a;
    const n = a.length;
    const e = a[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && less(a[r]!, a[l]!) ? r : l;
      const ce = a[c]!;
      if (!less(ce, e)) break;
      a[i] = ce;
      ce.pos = i;
      i = c;
    }
    a[i] = e;
    e.pos = i;
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
    clearTimeout: (h) => this.cancel(h),
  };

  now(): number {
    return this.nowMs;
  }

  /** Runs `fn` at virtual time `timeMs` (never earlier than now). Returns a handle for `cancel`. */
  at(timeMs: number, fn: () => void): unknown {
    const e = new Entry(Math.max(this.nowMs, timeMs), this.seq++, fn, -1);
    this.heap.push(e);
    return e;
  }

  /**
   * Moves a pending event (from `at`) to `timeMs`, as cancelling it and setting a new one
   * would (it then runs after events already set for that time), without a new entry.
   * Returns false if it already ran or was cancelled.
   */
  move(h: unknown, timeMs: number): boolean {
    if (!(h instanceof Entry) || h.pos < 0) return false;
    h.time = Math.max(this.nowMs, timeMs);
    h.seq = this.seq++;
    this.heap.fix(h.pos);
    return true;
  }

  /** One timer slot: `h` (a handle or undefined) moved to `timeMs`, set anew if it already ran, or cancelled for Infinity. Returns the handle. */
  reset(h: unknown, timeMs: number, fn: () => void): unknown {
    if (timeMs === Infinity) {
      this.cancel(h);
      return undefined;
    }
    return this.move(h, timeMs) ? h : this.at(timeMs, fn);
  }

  after(ms: number, fn: () => void): unknown {
    return this.at(this.nowMs + ms, fn);
  }

  cancel(h: unknown): void {
    if (h instanceof Entry) {
      h.fn = undefined;
      this.heap.remove(h);
    }
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

