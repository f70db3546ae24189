import { chromium, type Browser } from 'playwright-core';

/** Playwright cannot download its own browsers here: use the system Chromium (override with CHROMIUM_PATH). */
export function chromiumPath(): string {
  return process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
}

export interface LaunchOptions {
  /** Instead of chromiumPath(): e.g. a wrapper that runs Chromium in a network namespace. */
  readonly executablePath?: string;
  /** Added to the usual flags. */
  readonly args?: readonly string[];
}

export async function launchBrowser(o: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: o.executablePath ?? chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--autoplay-policy=no-user-gesture-required',
      // Deterministic host candidates on loopback/LAN instead of mDNS names.
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-gpu',
      '--disable-quic',
      '--mute-audio',
      // Many viewers share one machine: keep every page's timers and media running.
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
      ...(o.args ?? []),
    ],
  });
}
