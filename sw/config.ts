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
  /**
   * Origins whose manifests may set the kill switch (X-Relaycast-P2P) for every tab of this
   * worker: its own origin, plus those configured (`controlOrigins` in the script URL's query,
   * comma-separated, or a site worker's `relaycastConfig.controlOrigins`), e.g. a CDN hostname
   * the adapter fronts. A manifest of any other origin cannot turn P2P off (or on).
   */
  readonly controlOrigins: readonly string[];
}

export const DEFAULT_WORKER_CONFIG: WorkerConfig = {
  maxPeerWaitMs: 6000,
  pageReplySlackMs: 500,
  meshHelloTtlMs: 6000,
  maxKnownSegments: 2000,
  ignoreQuery: false,
  ignoreParams: [],
  ignoreHost: false,
  controlOrigins: [],
};

/** Set by a site's own worker before `importScripts('…/relaycast/sw.js')`, which has no query of its own. */
export interface WorkerGlobalConfig {
  readonly maxPeerWaitMs?: number;
  readonly ignoreQuery?: boolean | readonly string[];
  readonly ignoreHost?: boolean;
  readonly controlOrigins?: readonly string[];
}

const PARAM_NAME = /^[A-Za-z0-9_.~-]{1,64}$/;
const MAX_PARAMS = 16;
const MAX_CONTROL_ORIGINS = 8;

/** The http(s) origins of `list` (anything else dropped), after `own`, without duplicates. */
function origins(own: string | undefined, list: readonly unknown[]): string[] {
  const out = own === undefined ? [] : [own];
  for (const v of list.slice(0, MAX_CONTROL_ORIGINS)) {
    if (typeof v !== 'string') continue;
    try {
      const u = new URL(v.trim());
      if ((u.protocol === 'https:' || u.protocol === 'http:') && !out.includes(u.origin)) out.push(u.origin);
    } catch {
      // not a URL: ignored
    }
  }
  return out;
}

function ownOrigin(scriptUrl: string): string | undefined {
  try {
    return new URL(scriptUrl).origin;
  } catch {
    return undefined;
  }
}

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
  const co = g['controlOrigins'];
  return {
    ...base,
    ...(typeof wait === 'number' && Number.isInteger(wait) && wait >= 0 && wait <= 30_000 ? { maxPeerWaitMs: wait } : {}),
    ...(iq === true ? { ignoreQuery: true } : Array.isArray(iq) ? { ignoreParams: params(iq) } : {}),
    ...(g['ignoreHost'] === true ? { ignoreHost: true } : {}),
    ...(Array.isArray(co) ? { controlOrigins: origins(undefined, [...base.controlOrigins, ...co]) } : {}),
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
    controlOrigins: origins(ownOrigin(scriptUrl), (q.get('controlOrigins') ?? '').split(',').filter((o) => o !== '')),
    ...(Number.isInteger(wait) && wait >= 0 && wait <= 30_000 && q.has('maxPeerWaitMs') ? { maxPeerWaitMs: wait } : {}),
    ...(q.get('ignoreQuery') === '1' ? { ignoreQuery: true } : {}),
    ...(q.has('ignoreParams') ? { ignoreParams: params((q.get('ignoreParams') ?? '').split(',')) } : {}),
    ...(q.get('ignoreHost') === '1' ? { ignoreHost: true } : {}),
  };
}
