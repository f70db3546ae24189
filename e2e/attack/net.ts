/** Small network helpers of the attack suite: every call has a timeout and may pick its source address. */
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  readonly localAddress?: string | undefined;
  readonly timeoutMs?: number;
  /** Most body bytes kept (the rest is read and dropped). */
  readonly maxBodyBytes?: number;
}

/** One HTTP request; rejects on a network error or timeout (the connection is destroyed). */
export function get(url: URL, o: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: o.method ?? 'GET', headers: { connection: 'close', ...o.headers }, ...(o.localAddress ? { localAddress: o.localAddress } : {}), agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          if (kept < (o.maxBodyBytes ?? 1 << 20)) {
            chunks.push(c);
            kept += c.length;
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(o.timeoutMs ?? 5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(o.body);
  });
}

export interface Ws {
  readonly ws: WebSocket;
  /** The first message (OPEN, ERROR, ID-TAKEN), or undefined when the handshake was refused. */
  readonly first: { type?: string } | undefined;
  /** HTTP status of a refused handshake. */
  readonly refusedStatus?: number;
  /** Messages after the first, parsed (at most 1000 kept). */
  readonly got: unknown[];
  readonly closed: Promise<void>;
}

/** A PeerJS signaling WebSocket. Never rejects: a refused handshake comes back with its status. */
export function openSignal(base: URL, q: { id: string; token: string; key?: string }, localAddress: string | undefined, timeoutMs = 5000): Promise<Ws> {
  const u = new URL('/relaycast/signal/peerjs', base);
  u.protocol = 'ws:';
  u.search = new URLSearchParams({ key: q.key ?? 'peerjs', id: q.id, token: q.token }).toString();
  const ws = new WebSocket(u, { ...(localAddress ? { localAddress } : {}), handshakeTimeout: timeoutMs });
  const got: unknown[] = [];
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  return new Promise((resolve) => {
    let done = false;
    const finish = (w: Ws): void => {
      if (done) return;
      done = true;
      clearTimeout(t);
      resolve(w);
    };
    const t = setTimeout(() => {
      ws.terminate();
      finish({ ws, first: undefined, got, closed });
    }, timeoutMs);
    ws.on('error', () => finish({ ws, first: undefined, got, closed }));
    ws.once('unexpected-response', (_req, res) => {
      finish({ ws, first: undefined, refusedStatus: res.statusCode ?? 0, got, closed });
      ws.terminate();
    });
    ws.once('message', (d: Buffer) => {
      let first: { type?: string } | undefined;
      try {
        first = JSON.parse(d.toString()) as { type?: string };
      } catch {
        first = {};
      }
      ws.on('message', (m: Buffer) => {
        if (got.length >= 1000) return;
        try {
          got.push(JSON.parse(m.toString()));
        } catch {
          got.push(m.toString());
        }
      });
      finish({ ws, first, got, closed });
    });
  });
}

/** A raw TCP connection; resolves once connected, with when it closed (ms after connecting) or undefined if still open at `waitMs`. */
export function rawSocket(base: URL, localAddress: string | undefined): Promise<{ s: Socket; closedAfterMs: (waitMs: number) => Promise<number | undefined> }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: base.hostname.replace(/^\[|\]$/g, ''), port: Number(base.port || 80), ...(localAddress ? { localAddress } : {}) });
    s.on('error', () => undefined);
    const t0 = Date.now();
    const closed = new Promise<number>((r) => s.once('close', () => r(Date.now() - t0)));
    const closedAfterMs = (waitMs: number): Promise<number | undefined> =>
      new Promise((resolve) => {
        const t = setTimeout(() => resolve(undefined), waitMs);
        void closed.then((ms) => {
          clearTimeout(t);
          resolve(ms);
        });
      });
    s.once('connect', () => resolve({ s, closedAfterMs }));
    s.once('error', reject);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
