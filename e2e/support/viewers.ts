import type { Browser, BrowserContext, Page } from 'playwright-core';
import { maliciousBundle } from './chaos/build.js';
import { PROBE_SCRIPT, readProbe, type ProbeSample } from './page-probe.js';
import { CLOCK_PROBE_SCRIPT, readClockProbe, type ClockSample } from './clock-probe.js';

/** honest: the real client; malicious: uploads corrupted bytes; slow: upload throttled hard. */
export type ViewerRole = 'honest' | 'malicious' | 'slow';

export interface ViewerOptions {
  readonly p2p: boolean;
  readonly role?: ViewerRole;
  /** Upload budget of a 'slow' viewer. */
  readonly slowUploadBytesPerSec?: number;
  /** window.relaycastOptions for the page (JSON values). */
  readonly options?: Readonly<Record<string, unknown>>;
  /** Read the pusher's clock from the frames on screen (a stream from e2e/support/pusher.ts with `clock`). */
  readonly clockProbe?: boolean;
}

export interface Viewer {
  readonly index: number;
  readonly role: ViewerRole;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly pageErrors: string[];
  sample(): Promise<ProbeSample | null>;
  /** With `clockProbe`: the latencies read from the screen since the last call. */
  clock(): Promise<ClockSample | null>;
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
  if (opts.clockProbe === true) await context.addInitScript(CLOCK_PROBE_SCRIPT);
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
    clock: async () => {
      try {
        return await page.evaluate(readClockProbe);
      } catch {
        return null;
      }
    },
    close: async () => {
      await context.close().catch(() => undefined);
    },
  };
}
