import { setTimeout as sleep } from 'node:timers/promises';
import { startAdapter, type Adapter, type AdapterOptions } from '../../origin-adapter/index.js';
import { launchBrowser } from '../support/browser.js';
import { openViewer, type Viewer } from '../support/viewers.js';
import { computeResult, type LoadResult, type Tick } from './metrics.js';

export interface LoadOptions {
  readonly viewers: number;
  readonly durationSec: number;
  readonly p2p: boolean;
  /** A player page to load instead of the embedded demo (its origin should run the relaycast adapter for origin counts). */
  readonly url?: string;
  readonly staggerMs: number;
  readonly warmupSec: number;
  readonly pollMs: number;
  readonly progress: (line: string) => void;
  /** Options for the embedded adapter (ignored with `url`). */
  readonly adapter?: Partial<AdapterOptions>;
}

export const DEFAULT_LOAD_OPTIONS: Omit<LoadOptions, 'viewers' | 'durationSec' | 'p2p' | 'progress'> = {
  staggerMs: 1500,
  warmupSec: 10,
  pollMs: 2000,
};

async function originBytes(statsUrl: string): Promise<number | null> {
  try {
    const r = await fetch(statsUrl, { signal: AbortSignal.timeout(3000) });
    if (!r.ok) return null;
    const j: unknown = await r.json();
    const v = typeof j === 'object' && j !== null ? (j as Record<string, unknown>)['originSegmentBytes'] : undefined;
    return typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}

/**
 * Opens N isolated viewers on a live player page, staggered, plays for the
 * duration and returns the measured result. The duration counts from the
 * first viewer opening.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  let adapter: Adapter | undefined;
  const url = o.url ?? (adapter = await startAdapter({ port: 0, log: () => undefined, ...o.adapter })).playerUrl;
  const statsUrl = new URL('/relaycast/stats', url).href;
  const browser = await launchBrowser();
  const viewers: Viewer[] = [];
  const ticks: Tick[] = [];
  const errors: string[] = [];
  const t0 = Date.now();
  const now = (): number => (Date.now() - t0) / 1000;
  let lastOpenedSec = 0;
  try {
    const poll = async (): Promise<void> => {
      const [origin, samples] = await Promise.all([originBytes(statsUrl), Promise.all(viewers.map((v) => v.sample()))]);
      ticks.push({ tSec: now(), originSegmentBytes: origin, viewers: samples });
    };
    for (let i = 0; i < o.viewers; i++) {
      try {
        viewers.push(await openViewer(browser, url, i, { p2p: o.p2p }));
      } catch (e) {
        errors.push(`viewer ${i} failed to open: ${String(e)}`);
      }
      lastOpenedSec = now();
      o.progress(`viewer ${i + 1}/${o.viewers} opened at ${lastOpenedSec.toFixed(1)} s`);
      if (i < o.viewers - 1) await sleep(o.staggerMs);
    }
    let nextReport = 0;
    while (now() < o.durationSec) {
      await poll();
      const t = ticks[ticks.length - 1]!;
      if (t.tSec >= nextReport) {
        nextReport = t.tSec + 10;
        const playing = t.viewers.filter((v) => v?.playing).length;
        const stalls = t.viewers.reduce((n, v) => n + (v?.stalls ?? 0), 0);
        const peers = t.viewers.reduce((n, v) => n + (v?.relaycast?.deliveredPeerBytes ?? 0), 0);
        const toPlayers = t.viewers.reduce((n, v) => n + (v?.segmentBytes ?? 0), 0);
        o.progress(
          `t=${t.tSec.toFixed(0)}s playing ${playing}/${o.viewers} stalls ${stalls} origin ${mb(t.originSegmentBytes)} to-players ${mb(toPlayers)} from-peers ${mb(peers)}`,
        );
      }
      await sleep(Math.max(0, Math.min(o.pollMs, (o.durationSec - now()) * 1000)));
    }
    await poll();
    for (const v of viewers) errors.push(...v.pageErrors.map((e) => `viewer ${v.index}: ${e}`));
    return computeResult(ticks, { viewers: o.viewers, durationSec: o.durationSec, p2p: o.p2p, warmupSec: o.warmupSec, lastOpenedSec, errors });
  } finally {
    await Promise.all(viewers.map((v) => v.close()));
    await browser.close().catch(() => undefined);
    await adapter?.close();
  }
}

function mb(n: number | null): string {
  return n === null ? 'n/a' : `${(n / 1e6).toFixed(2)} MB`;
}
