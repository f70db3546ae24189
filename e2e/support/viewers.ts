import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PROBE_SCRIPT, readProbe, type ProbeSample } from './page-probe.js';

export interface Viewer {
  readonly index: number;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly pageErrors: string[];
  sample(): Promise<ProbeSample | null>;
  close(): Promise<void>;
}

/** One isolated viewer: its own context, so its own service worker, storage and PeerJS peer. */
export async function openViewer(browser: Browser, url: string, index: number, opts: { p2p: boolean }): Promise<Viewer> {
  const context = await browser.newContext({
    serviceWorkers: opts.p2p ? 'allow' : 'block',
    viewport: { width: 480, height: 320 },
  });
  await context.addInitScript(PROBE_SCRIPT);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => {
    if (pageErrors.length < 20) pageErrors.push(e.message);
  });
  const target = new URL(url);
  // The baseline is a site without relaycast: no worker and no relaycast script.
  if (!opts.p2p) target.searchParams.set('relaycast', '0');
  await page.goto(target.href, { waitUntil: 'domcontentloaded' });
  return {
    index,
    context,
    page,
    pageErrors,
    sample: async () => {
      try {
        return await page.evaluate(readProbe);
      } catch {
        return null;
      }
    },
    close: async () => {
      await context.close().catch(() => undefined);
    },
  };
}
