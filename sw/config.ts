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
}

export const DEFAULT_WORKER_CONFIG: WorkerConfig = {
  maxPeerWaitMs: 6000,
  pageReplySlackMs: 500,
  meshHelloTtlMs: 6000,
  maxKnownSegments: 2000,
  ignoreQuery: false,
};

export function readWorkerConfig(scriptUrl: string): WorkerConfig {
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
  };
}
