import type { Browser, BrowserContext, Page } from 'playwright-core';
import { maliciousBundle } from './chaos/build.js';
import { PROBE_SCRIPT, readProbe, type ProbeSample } from './page-probe.js';

/** honest: the real client; malicious: uploads corrupted bytes; slow: upload throttled hard. */
export type ViewerRole = 'honest' | 'malicious' | 'slow';

export interface ViewerOptions {
  readonly p2p: boolean;
  readonly role?: ViewerRole;
  /** Upload budget of a 'slow' viewer. */
  readonly slowUploadBytesPerSec?: number;
  /** window.relaycastOptions for the page (JSON values). */
  readonly options?: Readonly<Record<string, unknown>>;
}

export interface Viewer {
  readonly index: number;
  readonly role: ViewerRole;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly pageErrors: string[];
  sample(): Promise<ProbeSample | null>;
  close(): Promise<void>;
}

export const DEFAULT_SLOW_UPLOAD_BYTES_PER_SEC = 24_000;

/** One isolated viewer: its own context, so its own service worker, storage and PeerJS peer. */
export async function openViewer(browser: Browser, url: string, index: number, opts: ViewerOptions): Promise<Viewer> {
  const role = opts.role ?? 'honest';
  const context = await browser.newContext({
    serviceWorkers: opts.p2p ? 'allow' : 'block',
    viewport: { width: 480, height: 320 },
  });
  await context.addInitScript(PROBE_SCRIPT);
  const options: Record<string, unknown> = { ...opts.options };
  if (role === 'slow') options['maxUploadBytesPerSec'] = opts.slowUploadBytesPerSec ?? DEFAULT_SLOW_UPLOAD_BYTES_PER_SEC;
  if (Object.keys(options).length > 0) await context.addInitScript(`window.relaycastOptions = ${JSON.stringify(options)};`);
  if (role === 'malicious') {
    const body = await maliciousBundle();
    await context.route('**/relaycast/relaycast.js', (route) => route.fulfill({ status: 200, contentType: 'application/javascript', body }));
  }
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
    role,
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
