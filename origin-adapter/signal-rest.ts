/** The REST side of PeerJS signaling under /relaycast/signal: server info, a fresh id, and no peer discovery. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PEERJS_INFO, PEERJS_KEY, REST_CORS, SIGNAL_PATH } from './signaling-types.js';

/** Answers a signaling REST path; false when `pathname` is not one. */
export function handleSignalRest(req: IncomingMessage, res: ServerResponse, pathname: string, suspended: boolean): boolean {
  if (pathname !== SIGNAL_PATH && !pathname.startsWith(`${SIGNAL_PATH}/`)) return false;
  if (suspended) {
    res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '5' });
    res.end('signaling suspended\n');
    return true;
  }
  const rest = pathname.slice(SIGNAL_PATH.length);
  const reply = (status: number, type: string, body: string): void => {
    res.writeHead(status, { ...REST_CORS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') reply(405, 'text/plain', 'method not allowed\n');
  else if (rest === '' || rest === '/') reply(200, 'application/json', JSON.stringify(PEERJS_INFO));
  else if (rest === `/${PEERJS_KEY}/id`) reply(200, 'text/html; charset=utf-8', randomUUID());
  else if (rest === `/${PEERJS_KEY}/peers`) reply(401, 'text/plain', 'Unauthorized');
  else reply(404, 'text/plain', 'not found\n');
  return true;
}
