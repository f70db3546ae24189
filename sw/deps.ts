/// <reference lib="webworker" />
import type { Activity } from './activity.js';
import type { WorkerConfig } from './config.js';
import type { P2PMode } from './control.js';
import type { PageLink } from './page-link.js';
import type { Registry } from './registry.js';

/**
 * Everything the worker's handlers use, passed in (sw/index.ts builds it), so tests run them
 * with fakes. All state lives here: a worker stopped while idle loses it whole.
 */
export interface WorkerDeps {
  readonly cfg: WorkerConfig;
  readonly registry: Registry;
  readonly activity: Activity;
  readonly link: PageLink;
  readonly fetch: (req: Request | string, init?: RequestInit) => Promise<Response>;
  readonly now: () => number;
  /** The operator's kill switch as last seen on a playlist. */
  readonly state: { p2p: P2PMode };
  readonly unregister: () => Promise<unknown>;
  /** Manifests being fetched for a page's report, those that could not be learned (and when), and when each was last read again for a page. */
  readonly memo: WorkerMemo;
}

export interface WorkerMemo {
  readonly learning: Set<string>;
  readonly unlearnable: Map<string, number>;
  readonly refreshed: Map<string, number>;
}

export function workerMemo(): WorkerMemo {
  return { learning: new Set(), unlearnable: new Map(), refreshed: new Map() };
}
