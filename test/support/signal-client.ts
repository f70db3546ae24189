/** A PeerJS signaling client as a page runs one, for adapter tests: a socket, what it received, and its tracker announces. */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { httpGet } from '../unit/adapter-helpers.js';

export interface SignalClient {
  readonly ws: WebSocket;
  /** The server's first message (OPEN, ID-TAKEN, ERROR). */
  readonly first: unknown;
  /** Every message after the first. */
  readonly got: unknown[];
  readonly id: string;
  readonly token: string;
  send(m: unknown): void;
  close(): void;
}

export interface OpenOptions {
  readonly id?: string;
  readonly token?: string;
  readonly key?: string;
  /** Local address to connect from (per-address caps). */
  readonly from?: string;
}

export function openSignal(adapterUrl: string, o: OpenOptions = {}): Promise<SignalClient> {
  const id = o.id ?? randomUUID();
  const token = o.token ?? randomUUID().replace(/-/g, '');
  const ws = new WebSocket(`${adapterUrl.replace('http', 'ws')}/relaycast/signal/peerjs?key=${o.key ?? 'peerjs'}&id=${id}&token=${token}`, { localAddress: o.from ?? '127.0.0.1' });
  const got: unknown[] = [];
  return new Promise((resolve, reject) => {
    ws.once('message', (data: Buffer) => {
      ws.on('message', (d: Buffer) => got.push(JSON.parse(d.toString())));
      resolve({ ws, first: JSON.parse(data.toString()), got, id, token, send: (m) => ws.send(JSON.stringify(m)), close: () => ws.close() });
    });
    ws.once('error', reject);
  });
}

/** `c` announces `swarm` at the tracker of `adapterUrl` with the token of its signaling session; the HTTP status. */
export async function announce(adapterUrl: string, c: Pick<SignalClient, 'id' | 'token'>, swarm: string): Promise<number> {
  const r = await httpGet(`${adapterUrl}/relaycast/tracker`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'announce', swarm, peerId: c.id, token: c.token, uploads: true }),
  });
  return r.status;
}

export const typeOf = (m: unknown): unknown => (typeof m === 'object' && m !== null && 'type' in m ? m.type : undefined);

export const closed = (ws: WebSocket): Promise<void> => (ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise((r) => ws.once('close', () => r())));

/** Polls `pred` every 20 ms until it holds; false after `ms`. */
export async function eventually(pred: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() > end) return false;
    await sleep(20);
  }
}
