/** Shared helpers for the origin-adapter unit tests. */
import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import WebSocket from 'ws';

export interface Got {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export function httpGet(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

export function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export const silent = (): void => undefined;

/** A PeerJS signaling session (WebSocket open and OPEN received): what a page holds before it announces. */
export interface SignalSession {
  readonly id: string;
  readonly token: string;
  close(): void;
}

export async function signalSession(adapterUrl: string, id: string = randomUUID(), token = randomBytes(16).toString('hex'), localAddress = '127.0.0.1'): Promise<SignalSession> {
  const ws = new WebSocket(`${adapterUrl.replace('http', 'ws')}/relaycast/signal/peerjs?key=peerjs&id=${id}&token=${token}`, { localAddress });
  await new Promise<void>((resolve, reject) => {
    ws.once('message', (d: Buffer) => (JSON.parse(d.toString()).type === 'OPEN' ? resolve() : reject(new Error(d.toString()))));
    ws.once('error', reject);
  });
  return { id, token, close: () => ws.close() };
}
