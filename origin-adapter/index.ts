/**
 * relaycast origin adapter: serves the one-line client and its service worker,
 * PeerJS signaling, the swarm tracker, an embedded live source or a reverse
 * proxy to an existing origin, and the player page a streamer publishes.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { createAssetRoutes, defaultDistDir } from './assets.js';
import { ADAPTER_LIMITS, resolveOptions, type AdapterInput, type AdapterOptions } from './config.js';
import { createLiveRoutes, type MediaRoutes } from './live-routes.js';
import { createVodAsset, type VodAsset } from './vod-source.js';
import { createLiveSource, type LiveSource } from './live-source.js';
import { createProxy } from './proxy.js';
import { createRequestHandler, RATE_BURST, RATE_PER_SEC } from './server.js';
import { startCluster, type AdapterCluster, type ClusterStats } from './cluster/cluster.js';
import type { Announce } from './tracker-route.js';
import { createSignaling, type Signaling } from './signaling.js';
import type { SignalingStats } from './signaling-types.js';
import { createCounters, type AdapterStats } from './stats.js';
import { createTracker, trackerConfig } from './tracker.js';
import type { P2PMode } from './control.js';
import { HashRegistry, lookupHash, parseHashRange } from './integrity.js';
import { createUpstreamHasher, type UpstreamHasher } from './upstream-hasher.js';
import { createBroadcast, type Broadcast } from './broadcast/broadcast.js';
import { createBroadcastRoutes } from './broadcast/routes.js';
import { startIngestServer, type IngestServer } from './rtmp/ingest-server.js';
import { defaultFfmpegPath } from './live-source.js';
import { createStatus, isStreamSwarm, type BroadcastAnswer } from './broadcast-status.js';

export { DEFAULT_ADAPTER_OPTIONS, DEFAULT_CONNECTION_LIMITS, ADAPTER_LIMITS, type AdapterOptions, type AdapterInput, type ConnectionLimits, type LogFn } from './config.js';
export type { AdapterStats } from './stats.js';
export { SIGNAL_PATH, PEERJS_KEY } from './signaling.js';
export { TRACKER_PATH } from './tracker-route.js';
export type { P2PMode } from './control.js';
export type { BroadcastAnswer } from './broadcast-status.js';
export type { ClusterStats } from './cluster/cluster.js';

export interface Adapter {
  /** http://host:port */
  readonly url: string;
  readonly playerUrl: string;
  readonly port: number;
  stats(): AdapterStats;
  /** The signaling server's counters (relayed messages, candidates by type, refusals); undefined without signaling. */
  signalingStats(): SignalingStats | undefined;
  /** This node's place in its cluster (`redis`); undefined when it runs alone. */
  clusterStats(): ClusterStats | undefined;
  /** Operator kill switch: carried on the next playlist every viewer fetches, and in tracker answers. */
  setP2P(mode: P2PMode): void;
  /** Signaling/tracker outage (operations drills and fault tests): false drops every signaling socket and answers 503. */
  setSignaling(up: boolean): void;
  /** The published SHA-256 (base64url) of a segment path, if known. */
  segmentHash(path: string): string | undefined;
  /** The SHA-256 of a segment path, or `path|start-end` for a byte range, hashing an embedded source's file on demand. */
  segmentHashNow(key: string): Promise<string | undefined>;
  /** The RTMP ingest's port (`ingest: 'rtmp'`), else undefined. */
  readonly ingestPort: number | undefined;
  /** What /relaycast/broadcast answers: live or not, viewers; undefined without a stream of its own (proxy mode). */
  broadcast(): BroadcastAnswer | undefined;
  /** Stops ffmpeg, closes every connection. Idempotent. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });
}

/**
 * The HTTP server with its timeouts (slowloris: headers and whole requests within a deadline,
 * a silent connection closed) and per-address connection caps. Without trustProxy a socket is
 * refused at once when its address already holds `connectionsPerAddress`; behind a proxy every
 * socket has the proxy's address, so that cap is left to the proxy (signaling still caps per
 * forwarded address).
 */
function createHttpServer(o: Pick<AdapterOptions, 'connections' | 'trustProxy'>): Server {
  const c = o.connections;
  const server = createServer({ headersTimeout: c.headersTimeoutMs, requestTimeout: c.requestTimeoutMs, connectionsCheckingInterval: c.checkIntervalMs });
  server.keepAliveTimeout = c.keepAliveTimeoutMs;
  server.timeout = c.idleTimeoutMs;
  server.maxConnections = c.maxConnections;
  const perAddress = new Map<string, number>();
  server.on('connection', (s: Socket) => {
    // Node's headersTimeout only starts with a request's first byte: a connection that sends nothing gets this.
    s.setTimeout(c.headersTimeoutMs);
    if (o.trustProxy) return;
    const addr = s.remoteAddress ?? '?';
    const n = perAddress.get(addr) ?? 0;
    if (n >= c.connectionsPerAddress) {
      s.destroy();
      return;
    }
    perAddress.set(addr, n + 1);
    s.once('close', () => {
      const left = (perAddress.get(addr) ?? 1) - 1;
      if (left <= 0) perAddress.delete(addr);
      else perAddress.set(addr, left);
    });
  });
  // A request arrived: from now on the idle timeout applies (long responses stream, upstream waits).
  server.on('request', (req: IncomingMessage) => req.socket.setTimeout(c.idleTimeoutMs));
  server.on('clientError', (_e, socket) => socket.destroy());
  return server;
}

function publicUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

export async function startAdapter(input: AdapterInput = {}): Promise<Adapter> {
  const o = resolveOptions(input);
  const counters = createCounters();
  const cluster: AdapterCluster | undefined = o.redis === undefined ? undefined : await startCluster({ redisUrl: o.redis, log: o.log, timing: o.clusterTiming });
  // In a cluster, seeder lists come from the leader node while the cluster is reachable (cluster/tracker-share.ts).
  const sharedSeeders = cluster === undefined ? {} : { sharedSeeders: () => cluster.node.up() };
  const tracker = o.signaling ? createTracker({ ...trackerConfig({ ...o, p2p: o.p2p === 'on' }), ...sharedSeeders }) : undefined;
  const trackerShare = cluster && tracker ? cluster.shareTracker(tracker, o.announceIntervalMs) : undefined;
  const announce: Announce | undefined = trackerShare?.announce ?? (tracker && ((a, address) => tracker.announce(a, address).answer));
  const hashes = new HashRegistry();
  let p2p: P2PMode = o.p2p;
  let signalingUp = true;
  const stats = (): AdapterStats => ({ ...counters.snapshot(), swarms: tracker?.swarmSizes() ?? {}, p2p });

  const server = createHttpServer(o);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const applyP2P = (mode: P2PMode): void => {
    p2p = mode;
    tracker?.setP2P(mode === 'on');
    o.log(`p2p ${mode}`);
  };
  // The operator's switch on any node holds for every node of the cluster.
  const tellNodes = cluster?.shareP2P(applyP2P);
  const setP2P = (mode: P2PMode): void => {
    applyP2P(mode);
    tellNodes?.(mode);
  };

  let source: LiveSource | undefined;
  let broadcast: Broadcast | undefined;
  let ingest: IngestServer | undefined;
  let vod: VodAsset | undefined;
  let media: MediaRoutes | undefined;
  let signaling: Signaling | undefined;
  let upstreamHasher: UpstreamHasher | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (pruneTimer !== undefined) clearInterval(pruneTimer);
      signaling?.close();
      upstreamHasher?.close();
      await cluster?.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await ingest?.close();
      await Promise.all([closed, source?.stop(), vod?.stop(), broadcast?.close()]);
    })();
    return closing;
  };

  try {
    if (o.source) {
      source = await createLiveSource({
        segmentSec: o.segmentSec,
        windowSegments: o.windowSegments,
        renditions: o.renditions,
        bitrateKbps: o.bitrateKbps,
        log: o.log,
      });
      if (o.vodSec > 0) vod = await createVodAsset({ segmentSec: o.segmentSec, durationSec: o.vodSec });
    }
    if (o.ingest !== undefined || o.input !== undefined) {
      broadcast = await createBroadcast({
        segmentSec: o.segmentSec,
        windowSegments: o.windowSegments,
        renditions: o.renditions,
        source: o.input !== undefined ? { kind: 'input', input: o.input, loop: o.loop } : { kind: 'rtmp' },
        ffmpegPath: await defaultFfmpegPath(),
        log: o.log,
      });
    }
    signaling =
      tracker === undefined
        ? undefined
        : createSignaling(server, {
            log: o.log,
            trustProxy: o.trustProxy,
            mayPair: (a, b) => tracker.shareSwarm(a, b),
            limits: { maxClients: o.connections.signalingClients, perAddress: o.connections.signalingPerAddress, messageBytes: ADAPTER_LIMITS.signalingMessageBytes },
            ...(cluster ? { remote: cluster.signal, rateLimiter: (name, burst, perSec) => cluster.rates.limiter(name, burst, perSec) } : {}),
          });
    if (cluster && signaling) cluster.attachSignaling(signaling);
    upstreamHasher = o.upstream === undefined ? undefined : createUpstreamHasher(hashes);
    const presentationDelaySec = 3 * o.segmentSec;
    media = broadcast
      ? createBroadcastRoutes({ streamName: o.streamName, broadcast, counters, hashes, p2pMode: () => p2p, segmentSec: o.segmentSec, windowSegments: o.windowSegments, presentationDelaySec })
      : source && createLiveRoutes({ streamName: o.streamName, liveDir: source.dir, vodDir: vod?.dir, counters, hashes, p2pMode: () => p2p, presentationDelaySec });
    const startedMs = Date.now();
    const b = broadcast;
    const broadcastStatus =
      media === undefined
        ? undefined
        : createStatus({
            stream: o.streamName,
            title: o.title ?? o.streamName,
            // The test pattern is on air from the start.
            state: () => b?.status() ?? { state: 'live', sinceMs: startedMs },
            viewers: () => tracker?.countPeers(isStreamSwarm(o.streamName)) ?? 0,
          });
    server.on(
      'request',
      createRequestHandler({
        options: o,
        assets: createAssetRoutes(o.distDir ?? defaultDistDir()),
        stats,
        signaling,
        announce,
        media,
        proxy: o.upstream === undefined || upstreamHasher === undefined ? undefined : createProxy({ upstream: o.upstream, counters, hashes, hasher: upstreamHasher, p2pMode: () => p2p }),
        hashes,
        upstreamHasher,
        signalingUp: () => signalingUp,
        broadcast: broadcastStatus,
        admin: { token: o.adminToken, setP2P: (m) => setP2P(m) },
        ...(cluster ? { perAddress: cluster.rates.limiter('http', RATE_BURST, RATE_PER_SEC) } : {}),
      }),
    );
    const port = await listen(server, o.port, o.host);
    if (tracker !== undefined) {
      pruneTimer = setInterval(() => tracker.prune(), o.announceIntervalMs);
      pruneTimer.unref();
    }
    await source?.start();
    if (broadcast !== undefined && o.ingest === 'rtmp' && o.streamKey !== undefined) {
      const target = { stream: o.streamName, key: o.streamKey, claim: broadcast.claim };
      ingest = await startIngestServer({ host: o.ingestHost, port: o.ingestPort, target, log: o.log });
    }
    broadcast?.start();
    const url = publicUrl(o.host, port);
    return {
      url,
      playerUrl: media ? `${url}/watch/${o.streamName}` : `${url}/watch`,
      port,
      ingestPort: ingest?.port,
      broadcast: () => broadcastStatus?.(),
      stats,
      signalingStats: () => signaling?.stats(),
      clusterStats: () => cluster?.stats(),
      setP2P,
      setSignaling(up) {
        signalingUp = up;
        signaling?.suspend(!up);
        o.log(`signaling ${up ? 'resumed' : 'suspended'}`);
      },
      segmentHash: (path) => hashes.get(path)?.sha256,
      async segmentHashNow(key) {
        const [path = '', raw] = key.split('|');
        const range = parseHashRange(raw ?? null);
        return range === 'bad' ? undefined : (await lookupHash(hashes, (f) => media?.fileFor(f), path, range))?.sha256;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
