/**
 * Which signaling server a page's PeerJS peer talks to, and moving it to another one without
 * losing its open connections. PeerJS 1.5 builds its WebSocket URL once, in its Socket's
 * constructor (`_baseUrl`), and `reconnect()` reuses it; a new Peer would close every data
 * connection of the old one. So, to reconnect to the next server of `signalUrl` when the current
 * one is gone, the socket's base URL is set to it first (a private field, as signal-guard.ts
 * wraps a private method; if PeerJS changes it, the page simply reconnects to the same server).
 */

export interface SignalEndpoint {
  readonly host: string;
  readonly port: number;
  /** Ends with "/", as PeerJS makes it. */
  readonly path: string;
  readonly secure: boolean;
}

/** The endpoint of a signaling URL (absolute, or relative to the page). */
export function signalEndpoint(signalUrl: string, pageUrl: string): SignalEndpoint {
  const u = new URL(signalUrl, pageUrl);
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 443 : 80,
    path: u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`,
    secure,
  };
}

/** The base of the WebSocket URL PeerJS 1.5 opens (its Socket constructor's format). */
export function socketBaseUrl(e: SignalEndpoint, key: string): string {
  return `${e.secure ? 'wss://' : 'ws://'}${e.host}:${e.port}${e.path}peerjs?key=${key}`;
}

/** The part of a PeerJS Peer this replaces: `socket._baseUrl` (a private field of PeerJS 1.5's Socket). */
interface PointablePeer {
  readonly socket?: { _baseUrl?: unknown };
}

/** Points `peer`'s next (re)connection at `e`; false when this PeerJS does not have the field. */
export function pointPeerAt(peer: unknown, e: SignalEndpoint, key: string): boolean {
  const socket = (peer as PointablePeer).socket;
  if (socket === undefined || typeof socket._baseUrl !== 'string') return false;
  socket._baseUrl = socketBaseUrl(e, key);
  return true;
}

/** `signalUrl` / `trackerUrl` as a list: one URL, or several nodes to try in turn. */
export function urlList(v: string | readonly string[], fallback: string): readonly string[] {
  const list = typeof v === 'string' ? [v] : v.filter((u) => u !== '');
  return list.length > 0 ? list : [fallback];
}
