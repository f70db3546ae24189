/** Worker defaults. The registration URL's query may override some (see readWorkerConfig). */
export interface WorkerConfig {
  /** Longest the worker lets the page look for a peer copy; the page's buffer-based deadline is usually shorter. */
  readonly maxPeerWaitMs: number;
  /** Extra time past maxPeerWaitMs before the worker stops waiting for the page's answer at all. */
  readonly pageReplySlackMs: number;
  /** A page counts as running a mesh this long after its last `rc-mesh` hello. */
  readonly meshHelloTtlMs: number;
  /** Known segment URLs kept (oldest forgotten first). */
  readonly maxKnownSegments: number;
  /** Drop query strings from segment ids (tokenized URLs). */
  readonly ignoreQuery: boolean;
  /** Drop only these query parameters from segment ids. */
  readonly ignoreParams: readonly string[];
  /** Leave hosts out of segment and swarm ids (multi-CDN). */
  readonly ignoreHost: boolean;
}

export const DEFAULT_WORKER_CONFIG: WorkerConfig = {
  maxPeerWaitMs: 6000,
  pageReplySlackMs: 500,
  meshHelloTtlMs: 6000,
  maxKnownSegments: 2000,
  ignoreQuery: false,
  ignoreParams: [],
  ignoreHost: false,
};

/** Set by a site's own worker before `importScripts('…/relaycast/sw.js')`, which has no query of its own. */
export interface WorkerGlobalConfig {
  readonly maxPeerWaitMs?: number;
  readonly ignoreQuery?: boolean | readonly string[];
  readonly ignoreHost?: boolean;
}

const PARAM_NAME = /^[A-Za-z0-9_.~-]{1,64}$/;
const MAX_PARAMS = 16;

function params(list: readonly unknown[]): string[] {
  return list.filter((p): p is string => typeof p === 'string' && PARAM_NAME.test(p)).slice(0, MAX_PARAMS);
}

/** Query parameters of the worker script URL (what `start()` passes), then a site worker's `self.relaycastConfig`. */
export function readWorkerConfig(scriptUrl: string, global?: unknown): WorkerConfig {
  const base = fromQuery(scriptUrl);
  if (typeof global !== 'object' || global === null) return base;
  const g = global as Record<string, unknown>;
  const wait = g['maxPeerWaitMs'];
  const iq = g['ignoreQuery'];
  return {
    ...base,
    ...(typeof wait === 'number' && Number.isInteger(wait) && wait >= 0 && wait <= 30_000 ? { maxPeerWaitMs: wait } : {}),
    ...(iq === true ? { ignoreQuery: true } : Array.isArray(iq) ? { ignoreParams: params(iq) } : {}),
    ...(g['ignoreHost'] === true ? { ignoreHost: true } : {}),
  };
}

function fromQuery(scriptUrl: string): WorkerConfig {
  let q: URLSearchParams;
  try {
    q = new URL(scriptUrl).searchParams;
  } catch {
    return DEFAULT_WORKER_CONFIG;
  }
  const wait = Number(q.get('maxPeerWaitMs'));
  return {
    ...DEFAULT_WORKER_CONFIG,
    ...(Number.isInteger(wait) && wait >= 0 && wait <= 30_000 && q.has('maxPeerWaitMs') ? { maxPeerWaitMs: wait } : {}),
    ...(q.get('ignoreQuery') === '1' ? { ignoreQuery: true } : {}),
    ...(q.has('ignoreParams') ? { ignoreParams: params((q.get('ignoreParams') ?? '').split(',')) } : {}),
    ...(q.get('ignoreHost') === '1' ? { ignoreHost: true } : {}),
  };
}
