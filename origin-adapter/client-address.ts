/** Which address a request counts against for rate limits and connection caps. */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * The socket's peer address, or with `trustProxy` the right-most X-Forwarded-For entry: the
 * one the trusted reverse proxy appended. Everything left of it came from the client, which
 * can write any address there (a first-entry key let one client take a fresh budget per
 * request). Several X-Forwarded-For headers are read as one list, in order. An entry that is
 * not an IP address falls back to the socket's address.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const socketAddress = req.socket.remoteAddress ?? '?';
  if (!trustProxy) return socketAddress;
  const raw = req.headers['x-forwarded-for'];
  const list = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).split(',');
  const last = list[list.length - 1]?.trim() ?? '';
  return isIP(last) !== 0 ? last : socketAddress;
}
