/**
 * PeerJS signaling (the `peer` package) mounted at /relaycast/signal on our
 * own http server, without an express parent app.
 *
 * How the peer package computes its paths (peer 1.0.2, dist/module.mjs): on the
 * express 'mount' event it mounts its REST api at `options.path` and starts a
 * ws server at posix.join(app.path(), options.path, '/') + 'peerjs'. Mounted at
 * '/' of a root app, options.path '/relaycast/signal' gives REST
 * /relaycast/signal/:key/id and WebSocket /relaycast/signal/peerjs, which is
 * what `new Peer(id, { path: '/relaycast/signal', key: 'peerjs' })` computes.
 *
 * The root app uses the peer package's own express (resolved from its location),
 * so express stays a dependency of `peer` only.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { ExpressPeerServer } from 'peer';
import { WebSocketServer, type ServerOptions } from 'ws';
import { ADAPTER_LIMITS, type LogFn } from './config.js';
import { TokenBucket } from '../protocol/token-bucket.js';

export const SIGNAL_PATH = '/relaycast/signal';
export const PEERJS_KEY = 'peerjs';

export interface Signaling {
  /** Returns false when the path is not a signaling path. */
  handle(req: IncomingMessage, res: ServerResponse, pathname: string): boolean;
  /** Signaling outage (operations, fault tests): drop every websocket and refuse new ones until resumed. */
  suspend(suspended: boolean): void;
  /** Terminates websockets, stops the peer package's timers. Idempotent. */
  close(): void;
}

/** Per-connection message budget: a burst (several peers dialing at once) then a steady rate. */
const WS_BURST_MESSAGES = 200;
const WS_MESSAGES_PER_SEC = 50;

/*
 * The peer package starts two self-rearming setTimeout loops (broken-connection
 * check every 300 ms, message expiry) and exposes no way to stop them, so a
 * process that closed the adapter would never exit. Timers created inside
 * `timerScope.run` (and by their callbacks, which inherit the async context) are
 * unref'd, tracked, and refused once the scope is closed.
 */
interface TimerScope {
  closed: boolean;
  readonly timers: Set<NodeJS.Timeout>;
}
const timerScope = new AsyncLocalStorage<TimerScope>();
let setTimeoutPatched = false;

function patchSetTimeout(): void {
  if (setTimeoutPatched) return;
  setTimeoutPatched = true;
  const original = globalThis.setTimeout;
  const scoped = function (handler: unknown, ms?: number, ...args: unknown[]): NodeJS.Timeout {
    const scope = timerScope.getStore();
    if (scope === undefined || typeof handler !== 'function') {
      return original(handler as (...a: unknown[]) => void, ms, ...args);
    }
    if (scope.closed) return original(() => undefined, 0).unref();
    const t: NodeJS.Timeout = original((...a: unknown[]) => {
      scope.timers.delete(t);
      (handler as (...a: unknown[]) => void)(...a);
    }, ms, ...args);
    t.unref();
    scope.timers.add(t);
    return t;
  };
  Object.defineProperties(scoped, Object.getOwnPropertyDescriptors(original));
  globalThis.setTimeout = scoped as typeof setTimeout;
}

type ExpressFactory = typeof import('express');

function peersExpress(): ExpressFactory {
  const require = createRequire(import.meta.url);
  const fromPeer = createRequire(require.resolve('peer'));
  return fromPeer('express') as ExpressFactory;
}

export function createSignaling(server: Server, log: LogFn): Signaling {
  patchSetTimeout();
  const scope: TimerScope = { closed: false, timers: new Set() };
  const sockets: WebSocketServer[] = [];
  let suspended = false;
  const app = ExpressPeerServer(server, {
    path: SIGNAL_PATH,
    key: PEERJS_KEY,
    allow_discovery: false,
    proxied: false,
    concurrent_limit: ADAPTER_LIMITS.signalingMaxClients,
    createWebSocketServer: (options: ServerOptions) => {
      const wss = new WebSocketServer({
        ...options,
        maxPayload: ADAPTER_LIMITS.signalingMessageBytes,
        verifyClient: () => !suspended,
      });
      wss.on('connection', (ws) => {
        // A token bucket per socket: a client flooding the server is cut off.
        const rate = new TokenBucket(WS_BURST_MESSAGES, WS_MESSAGES_PER_SEC, Date.now());
        ws.on('message', () => {
          if (!rate.take(Date.now())) {
            log('signaling: client over its message rate, disconnected');
            ws.terminate();
          }
        });
      });
      sockets.push(wss);
      return wss;
    },
  });
  app.disable('x-powered-by');
  // Without a listener an 'error' event (bad JSON from a client) would throw and kill the process.
  app.on('error', (e: Error) => log(`signaling: ${e.message}`));
  const root = peersExpress()();
  root.disable('x-powered-by');
  timerScope.run(scope, () => root.use(app));
  return {
    handle(req, res, pathname) {
      if (pathname !== SIGNAL_PATH && !pathname.startsWith(`${SIGNAL_PATH}/`)) return false;
      if (suspended) {
        res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '5' });
        res.end('signaling suspended\n');
        return true;
      }
      root(req, res);
      return true;
    },
    suspend(on) {
      suspended = on;
      if (on) for (const wss of sockets) for (const c of wss.clients) c.terminate();
    },
    close() {
      if (scope.closed) return;
      scope.closed = true;
      for (const t of scope.timers) clearTimeout(t);
      scope.timers.clear();
      for (const wss of sockets) {
        for (const c of wss.clients) c.terminate();
        wss.close();
      }
    },
  };
}
