import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { startAdapter, type Adapter, type AdapterOptions } from '../../origin-adapter/index.js';
import { launchBrowser } from './browser.js';
import type { ProbeSample } from './page-probe.js';
import { openViewer, type Viewer, type ViewerOptions } from './viewers.js';

/** An adapter, a browser and viewers, for tests that act on them mid-run. Close with `close()`. */
export interface Session {
  readonly adapter: Adapter;
  readonly browser: Browser;
  readonly viewers: Viewer[];
  open(opts?: Partial<ViewerOptions>): Promise<Viewer>;
  /** Polls `v` until `pred` holds (or throws after `timeoutMs`). */
  until(v: Viewer, pred: (s: ProbeSample) => boolean, timeoutMs: number, what: string): Promise<ProbeSample>;
  sample(v: Viewer): Promise<ProbeSample>;
  close(): Promise<void>;
}

/** `origin`: a running adapter to use (left running); otherwise one is started with `adapter`. */
export async function session(o: { readonly adapter?: Partial<AdapterOptions>; readonly origin?: Adapter } = {}): Promise<Session> {
  const own = o.origin === undefined;
  const adapter = o.origin ?? (await startAdapter({ port: 0, log: () => undefined, ...o.adapter }));
  const browser = await launchBrowser();
  const viewers: Viewer[] = [];
  const sample = async (v: Viewer): Promise<ProbeSample> => {
    const s = await v.sample();
    if (!s) throw new Error(`viewer ${v.index}: no probe sample`);
    return s;
  };
  return {
    adapter,
    browser,
    viewers,
    async open(opts = {}) {
      const v = await openViewer(browser, adapter.playerUrl, viewers.length, { p2p: true, ...opts });
      viewers.push(v);
      return v;
    },
    async until(v, pred, timeoutMs, what) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const s = await sample(v);
        if (pred(s)) return s;
        if (Date.now() > end) throw new Error(`viewer ${v.index}: timed out waiting for ${what}: ${JSON.stringify({ ...s, hashes: undefined })}`);
        await sleep(500);
      }
    },
    sample,
    async close() {
      await Promise.all(viewers.map((v) => v.close()));
      await browser.close().catch(() => undefined);
      if (own) await adapter.close();
    },
  };
}
