import { err, type Result } from './result.js';

/**
 * One request and its reply over a fresh MessageChannel, the way the worker asks the page for a
 * segment (`rc-get`) and the page asks the worker for an origin fetch (`rc-origin-fetch`): every
 * request has an id, a deadline and a cancel, the reply is parsed before it is trusted, and the
 * port is closed whatever happens. The DOM types stay with the callers: this module runs in
 * the page and the worker alike.
 */

/** What is used of a MessagePort. */
export interface ReplyPort {
  addEventListener(type: 'message', f: (e: { readonly data: unknown }) => void): void;
  removeEventListener(type: 'message', f: (e: { readonly data: unknown }) => void): void;
  start(): void;
  close(): void;
}

/** What is used of an AbortSignal. */
export interface AbortLike {
  addEventListener(type: 'abort', f: () => void): void;
  removeEventListener(type: 'abort', f: () => void): void;
}

export interface PortRequest<T> {
  /** A new channel: `port1` receives the reply, `port2` goes with the request. */
  readonly channel: { readonly port1: ReplyPort; readonly port2: unknown };
  readonly reqId: number;
  /** Sends the request carrying `reqId`, transferring `port`; may throw (the other side is gone). */
  readonly post: (port: unknown) => void;
  /** The reply's parser (protocol/worker.ts). */
  readonly parse: (data: unknown) => Result<T & { readonly reqId: number }>;
  readonly timeoutMs: number;
  readonly signal?: AbortLike;
  readonly timers: { setTimeout(f: () => void, ms: number): unknown; clearTimeout(t: unknown): void };
}

export type PortFailure = 'timeout' | 'aborted' | 'post failed' | 'bad reply' | 'reply id mismatch';

/** Resolves the parsed reply, or why there is none; never rejects. */
export function requestOverPort<T>(r: PortRequest<T>): Promise<Result<T, PortFailure>> {
  const { port1 } = r.channel;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (v: Result<T, PortFailure>): void => {
      if (settled) return;
      settled = true;
      r.timers.clearTimeout(timer);
      r.signal?.removeEventListener('abort', onAbort);
      port1.removeEventListener('message', onMessage);
      port1.close();
      resolve(v);
    };
    const onAbort = (): void => finish(err<T, PortFailure>('aborted'));
    const timer = r.timers.setTimeout(() => finish(err<T, PortFailure>('timeout')), r.timeoutMs);
    r.signal?.addEventListener('abort', onAbort);
    const onMessage = (e: { readonly data: unknown }): void => {
      const p = r.parse(e.data);
      if (!p.ok) return finish(err<T, PortFailure>('bad reply'));
      if (p.value.reqId !== r.reqId) return finish(err<T, PortFailure>('reply id mismatch'));
      finish({ ok: true, value: p.value });
    };
    port1.addEventListener('message', onMessage);
    port1.start();
    try {
      r.post(r.channel.port2);
    } catch {
      finish(err<T, PortFailure>('post failed'));
    }
  });
}
