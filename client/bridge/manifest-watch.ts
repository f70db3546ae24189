import { addBounded } from '../../protocol/bounded.js';

const MANIFEST = /\.(m3u8|mpd)$/i;
const MAX_MANIFESTS = 16;

/**
 * Manifest URLs this page has loaded, from Resource Timing. A player may fetch
 * its manifest before the worker controls the page (the first visit), and a
 * VOD manifest is never fetched again: the worker is told these URLs so it
 * can learn them itself (protocol: `rc-learn`).
 */
export class ManifestWatch {
  private readonly urls = new Set<string>();
  private observer: PerformanceObserver | undefined;

  start(): void {
    if (typeof PerformanceObserver === 'undefined') return;
    try {
      this.observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) this.see(e.name);
      });
      this.observer.observe({ type: 'resource', buffered: true });
    } catch {
      // No Resource Timing here: the worker learns manifests only as they pass through it.
    }
  }

  see(url: string): void {
    try {
      if (MANIFEST.test(new URL(url).pathname)) addBounded(this.urls, url, MAX_MANIFESTS);
    } catch {
      // not a URL
    }
  }

  list(): string[] {
    return [...this.urls];
  }

  stop(): void {
    this.observer?.disconnect();
  }
}
