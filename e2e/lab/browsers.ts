/**
 * Browsers for the load tool's viewers: one shared headless Chromium on loopback (the default),
 * or, in the network lab, one Chromium per viewer inside that viewer's namespace (a browser
 * process and its network service live in one namespace, so viewers cannot share one).
 */
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import type { Lab } from './netlab.js';

export interface ViewerBrowser {
  readonly browser: Browser;
  /** Closes the browser if it is this viewer's own; the shared one stays open. */
  release(): Promise<void>;
}

export interface ViewerBrowsers {
  /**
   * Launches the browsers of these lab slots now (nothing on loopback), so opening their viewers
   * later costs a page load, not a browser start: on a busy machine a dozen starts would
   * otherwise eat the run's time.
   */
  prepare(slots: readonly number[]): Promise<void>;
  /** The one browser of every viewer on loopback; undefined in the lab (a browser per viewer). */
  readonly shared: Browser | undefined;
  /** A browser for the viewer in lab slot `slot` (ignored on loopback). */
  open(slot: number): Promise<ViewerBrowser>;
  close(): Promise<void>;
}

/** `pageOrigin`: the page's origin, which the lab's viewers reach on the bridge address, not on loopback. */
export async function viewerBrowsers(lab: Lab | undefined, pageOrigin: string): Promise<ViewerBrowsers> {
  if (!lab) {
    const shared = await launchBrowser();
    return {
      shared,
      prepare: async () => undefined,
      open: async () => ({ browser: shared, release: async () => undefined }),
      close: () => shared.close().catch(() => undefined),
    };
  }
  const own = new Set<Browser>();
  const prepared = new Map<number, Browser>();
  const launch = async (slot: number): Promise<Browser> => {
    const v = lab.viewers[slot];
    if (!v) throw new Error(`no lab slot ${slot}`);
    const browser = await launchBrowser({
      executablePath: v.chromium,
      // A service worker needs a secure context; the lab's origin is plain http on a LAN address.
      args: [`--unsafely-treat-insecure-origin-as-secure=${pageOrigin}`],
    });
    own.add(browser);
    return browser;
  };
  return {
    shared: undefined,
    async prepare(slots) {
      for (const slot of slots) if (!prepared.has(slot)) prepared.set(slot, await launch(slot));
    },
    async open(slot) {
      const ready = prepared.get(slot);
      prepared.delete(slot);
      const browser = ready ?? (await launch(slot));
      return {
        browser,
        release: async () => {
          own.delete(browser);
          await browser.close().catch(() => undefined);
        },
      };
    },
    async close() {
      await Promise.all([...own].map((b) => b.close().catch(() => undefined)));
      own.clear();
      prepared.clear();
    },
  };
}
