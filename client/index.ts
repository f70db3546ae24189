import { createStore, del, get, set } from 'idb-keyval';
import { Workbox } from 'workbox-window';
import { VodPersistence } from './storage/vod-persist.js';
import { DEFAULT_CONFIG, workerScriptUrl, type RelaycastConfig } from './config.js';
import { Relaycast } from './page/relaycast.js';
import { whenPlaying } from './page/start-gate.js';
import { emptyStats, type RelaycastStats } from './core/stats.js';

export { DEFAULT_CONFIG } from './config.js';
export type { RelaycastConfig } from './config.js';
export type { RelaycastStats } from './core/stats.js';

export interface RelaycastHandle {
  /** Counters for a stats line or analytics. */
  stats(): RelaycastStats;
  /** Upload consent: false stops serving other viewers at once. */
  setUpload(on: boolean): void;
  /** Upload budget in bytes per second, spread over all peers (0 = no limit), or 'auto' (follows the stream's bitrate). */
  setUploadLimit(setting: number | 'auto'): void;
  /** Stops the mesh on this page (the worker stays and passes everything to the origin). */
  destroy(): void;
}

interface NetworkInformationLike {
  readonly saveData?: boolean;
}

/**
 * The one call: registers the relaycast service worker (workbox-window) and
 * starts the page mesh. Never throws into the page: without service workers,
 * or if anything fails, the site keeps fetching from its origin as before.
 */
export function start(options: Partial<RelaycastConfig> = {}): RelaycastHandle {
  const cfg: RelaycastConfig = { ...DEFAULT_CONFIG, ...options };
  const sw = typeof navigator !== 'undefined' ? navigator.serviceWorker : undefined;
  if (!sw || !cfg.p2p) return inert(cfg.p2p ? 'service workers unavailable' : null);
  let rc: Relaycast;
  try {
    rc = new Relaycast(cfg, {
      serviceWorker: sw,
      pageUrl: location.href,
      media: () => [...document.querySelectorAll('video, audio')] as HTMLMediaElement[],
      // Network Information API (Chromium): the user asked the browser to save data.
      saveData: () => (navigator as Navigator & { connection?: NetworkInformationLike }).connection?.saveData === true,
      ...(cfg.persistVodBytes > 0 && typeof indexedDB !== 'undefined' ? { vodPersistence: idbPersistence(cfg.persistVodBytes) } : {}),
    });
  } catch (e) {
    return inert(String(e));
  }
  const wb = new Workbox(workerScriptUrl(cfg, location.href), { scope: cfg.swScope });
  // The worker calls skipWaiting() + clients.claim() itself, so a new version takes over on the next
  // navigation without a reload prompt; workbox-window handles update checks and lifecycle events.
  // The mesh starts once the worker is registered and the video plays; without a worker there is
  // nothing to accelerate.
  wb.register().then(
    (reg) => {
      if (!reg) return rc.destroy();
      // Startup first: the player fetches its first segments from the origin meanwhile.
      void whenPlaying(document, cfg.startMeshAfterPlayingMs).then(() => rc.start());
    },
    (e: unknown) => {
      console.warn('[relaycast] service worker registration failed; playing from origin', e);
      rc.destroy();
    },
  );
  return {
    stats: () => rc.stats(),
    setUpload: (on) => rc.setUpload(on),
    setUploadLimit: (bps) => rc.setUploadLimit(bps),
    destroy: () => rc.destroy(),
  };
}

function idbPersistence(maxBytes: number): VodPersistence {
  const store = createStore('relaycast', 'vod-segments');
  return new VodPersistence(
    { get: (k) => get(k, store), set: (k, v) => set(k, v, store), del: (k) => del(k, store) },
    maxBytes,
  );
}

function inert(reason: string | null): RelaycastHandle {
  const stats: RelaycastStats = { ...emptyStats(), lastError: reason };
  return { stats: () => ({ ...stats }), setUpload: () => undefined, setUploadLimit: () => undefined, destroy: () => undefined };
}
