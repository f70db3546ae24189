/**
 * Optional disk cache for VOD (config `persistVodBytes`, default 0 = off): segments a viewer
 * played stay in IndexedDB (idb-keyval) up to a byte cap, oldest dropped first, so after a
 * reload this viewer plays them locally and serves them to later viewers. Live segments are
 * never kept: they are worthless a minute later. Storage is injected so the logic runs in Node.
 */
import type { StoredSegment } from './store.js';

/** The idb-keyval calls we use (bound to relaycast's own database). */
export interface KeyValue {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
}

interface IndexEntry {
  readonly key: string;
  readonly swarm: string;
  readonly id: string;
  readonly seq: number;
  readonly bytes: number;
  readonly hop: number;
  readonly t: number;
}

const INDEX_KEY = 'index';
const MAX_ENTRIES = 4096;

function isEntry(v: unknown): v is IndexEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e['key'] === 'string' && typeof e['swarm'] === 'string' && typeof e['id'] === 'string' &&
    Number.isSafeInteger(e['seq']) && Number.isSafeInteger(e['bytes']) && Number.isSafeInteger(e['hop']) && typeof e['t'] === 'number'
  );
}

export class VodPersistence {
  private index: IndexEntry[] | undefined;
  /** One write at a time: the index is read-modify-write. */
  private chain: Promise<unknown> = Promise.resolve();
  private seq = 0;

  constructor(
    private readonly kv: KeyValue,
    private readonly maxBytes: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Keeps a played VOD segment (fire and forget; storage errors just mean no cache). */
  put(swarm: string, seg: StoredSegment): Promise<void> {
    if (seg.bytes.byteLength > this.maxBytes) return Promise.resolve();
    return this.serial(async () => {
      const index = await this.load();
      if (index.some((e) => e.swarm === swarm && e.id === seg.id)) return;
      const key = `seg:${this.now().toString(36)}:${(this.seq++).toString(36)}`;
      await this.kv.set(key, seg.bytes.slice());
      index.push({ key, swarm, id: seg.id, seq: seg.seq, bytes: seg.bytes.byteLength, hop: seg.hop, t: this.now() });
      let total = index.reduce((n, e) => n + e.bytes, 0);
      while ((total > this.maxBytes || index.length > MAX_ENTRIES) && index.length > 0) {
        const old = index.shift();
        if (!old) break;
        total -= old.bytes;
        await this.kv.del(old.key);
      }
      await this.kv.set(INDEX_KEY, index);
    });
  }

  /** The swarm's kept segments, newest first, up to `maxBytes` (what fits the page's memory store). */
  restore(swarm: string, maxBytes: number): Promise<StoredSegment[]> {
    return this.serial(async () => {
      const out: StoredSegment[] = [];
      let total = 0;
      for (const e of [...(await this.load())].reverse()) {
        if (e.swarm !== swarm || total + e.bytes > maxBytes) continue;
        const v = await this.kv.get(e.key);
        // What comes back must be what went in: bytes of the recorded length, else the entry is dropped.
        if (!(v instanceof Uint8Array) || v.byteLength !== e.bytes) continue;
        out.push({ id: e.id, seq: e.seq, bytes: v, source: 'cache', hop: e.hop });
        total += e.bytes;
      }
      return out;
    }).then((r) => r ?? []);
  }

  private async load(): Promise<IndexEntry[]> {
    if (this.index) return this.index;
    const raw = await this.kv.get(INDEX_KEY).catch(() => undefined);
    this.index = Array.isArray(raw) ? raw.filter(isEntry).slice(-MAX_ENTRIES) : [];
    return this.index;
  }

  private serial<T>(job: () => Promise<T>): Promise<T | undefined> {
    const run = this.chain.then(job, job).catch(() => undefined);
    this.chain = run;
    return run;
  }
}
