/**
 * One documented defaults object for the origin adapter. Units are in the names.
 * Each module takes a `Pick<>` of the resolved options.
 */
import type { P2PMode } from './control.js';
import { iceOptionsError, type IceOptions } from './ice.js';
import { isPlayerName, type PlayerName } from './player-page.js';
import { STREAM_KEY_PATTERN } from './rtmp/publish-auth.js';
import type { ClusterTiming } from './cluster/node.js';
import { isRedisUrl } from './cluster/store.js';

export type LogFn = (line: string) => void;

export interface AdapterOptions extends IceOptions {
  /** Interface to bind. */
  readonly host: string;
  /** TCP port; 0 picks an ephemeral port. */
  readonly port: number;
  /** Reverse-proxy mode: every path outside /relaycast/ and /watch is proxied here. */
  readonly upstream: string | undefined;
  /** Run the embedded ffmpeg live source (default: true unless `upstream` is set). */
  readonly source: boolean;
  /** Name of the embedded stream: served at /live/<streamName>/, watched at /watch/<streamName>. */
  readonly streamName: string;
  /** Target segment duration of the embedded source. */
  readonly segmentSec: number;
  /** Segments listed in the embedded source's sliding-window playlist. */
  readonly windowSegments: number;
  /** Video renditions of the embedded source's ABR ladder (1..3); each is its own swarm. */
  readonly renditions: number;
  /**
   * The embedded live source's video at a constant bitrate (kbit/s) with filler, instead of the
   * ladder's 250 kbit/s: segments of an HD stream's size from a 320x180 picture that stays cheap
   * to decode (lab runs with capped uplinks). One rendition only; undefined: the ladder.
   */
  readonly bitrateKbps: number | undefined;
  /** Seconds of the embedded VOD asset (/vod/<streamName>/); 0 = none. */
  readonly vodSec: number;
  /**
   * 'rtmp': the stream is what a streamer pushes (OBS, ffmpeg) to rtmp://ingestHost:ingestPort/live
   * with `streamKey`, instead of the embedded test pattern.
   */
  readonly ingest: 'rtmp' | undefined;
  readonly ingestHost: string;
  readonly ingestPort: number;
  /** The key a push must carry (RTMP ingest): 8-256 characters of [A-Za-z0-9._~-]. */
  readonly streamKey: string | undefined;
  /** A file or URL ffmpeg reads and the adapter publishes as the live stream, instead of the test pattern. */
  readonly input: string | undefined;
  /** With `input`: start the file again at its end. */
  readonly loop: boolean;
  /** The broadcast page's title (default: the stream name). */
  readonly title: string | undefined;
  /** The player of the generated page unless ?player= says otherwise. */
  readonly player: PlayerName;
  /** PeerJS signaling and tracker routes; when false they do not exist (404). */
  readonly signaling: boolean;
  /**
   * Operator kill switch, carried on every playlist (X-Relaycast-P2P) and in tracker answers:
   * 'off' stops P2P within one playlist refresh; 'unregister' also makes every worker unregister itself.
   */
  readonly p2p: P2PMode;
  /** Behind a reverse proxy: rate limits and signaling caps key on the right-most X-Forwarded-For address (client-address.ts). */
  readonly trustProxy: boolean;
  /** Bearer token for POST /relaycast/admin/p2p (runtime kill switch); undefined disables the endpoint. */
  readonly adminToken: string | undefined;
  /** How often pages announce to the tracker; peers silent for 3x this are pruned. */
  readonly announceIntervalMs: number;
  /** Where relaycast.js and sw.js are served from (default: <package root>/dist/browser). */
  readonly distDir: string | undefined;
  /** Log sink for one-line messages. */
  readonly log: LogFn;
  /** Server timeouts and connection caps (Node API only; `startAdapter({ connections: {…} })` overrides some). */
  readonly connections: ConnectionLimits;
  /**
   * redis://HOST:PORT: this adapter is one node of several sharing signaling and tracker state
   * there (origin-adapter/cluster/). Undefined: one process, everything in memory.
   */
  readonly redis: string | undefined;
  /** Heartbeats and TTLs of the cluster (Node API only; tests shorten them). */
  readonly clusterTiming: Partial<ClusterTiming> | undefined;
}

/** Timeouts and connection caps of the HTTP server and the signaling WebSockets. */
export interface ConnectionLimits {
  /** A client must send a request's headers within this (slowloris), and its first byte too. */
  readonly headersTimeoutMs: number;
  /** ...and the whole request, body included, within this. */
  readonly requestTimeoutMs: number;
  /** A keep-alive connection idle between requests is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** A connection with no traffic for this long (mid-request or mid-response) is closed; above upstreamTimeoutMs. */
  readonly idleTimeoutMs: number;
  /** How often the header and request timeouts are checked. */
  readonly checkIntervalMs: number;
  /** Open TCP connections (HTTP and WebSocket alike) from one address; not applied with trustProxy (all come from the proxy). */
  readonly connectionsPerAddress: number;
  /** Open TCP connections in all. */
  readonly maxConnections: number;
  /** Signaling WebSockets from one client address (with trustProxy: the X-Forwarded-For address). */
  readonly signalingPerAddress: number;
  /** Signaling WebSockets (PeerJS clients) of this process in all. */
  readonly signalingClients: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 45_000,
  checkIntervalMs: 1_000,
  connectionsPerAddress: 128,
  maxConnections: 20_000,
  signalingPerAddress: 32,
  signalingClients: 5_000,
};

export const DEFAULT_ADAPTER_OPTIONS = {
  host: '127.0.0.1',
  port: 8080,
  upstream: undefined,
  streamName: 'demo',
  segmentSec: 2,
  windowSegments: 6,
  renditions: 1,
  bitrateKbps: undefined,
  vodSec: 60,
  ingest: undefined,
  ingestHost: '127.0.0.1',
  ingestPort: 1935,
  streamKey: undefined,
  input: undefined,
  loop: false,
  title: undefined,
  player: 'hls.js',
  signaling: true,
  p2p: 'on',
  adminToken: undefined,
  trustProxy: false,
  announceIntervalMs: 3000,
  distDir: undefined,
  log: (line: string) => console.log(`[relaycast] ${line}`),
  connections: DEFAULT_CONNECTION_LIMITS,
  redis: undefined,
  clusterTiming: undefined,
  // GET /relaycast/ice: none by default (loopback and LAN need none); see docs/integration.md for coturn.
  stunUrls: [],
  turnUrls: [],
  turnSecret: undefined,
  turnTtlSec: 12 * 3600,
} as const satisfies Omit<AdapterOptions, 'source'>;

/** Hard caps of the adapter (not tuning knobs). */
export const ADAPTER_LIMITS = {
  trackerBodyBytes: 8 * 1024,
  trackerPeersPerAnswer: 20,
  trackerMaxSwarms: 10_000,
  trackerMaxPeersPerSwarm: 50_000,
  /** Missed announces after which a peer is pruned. */
  trackerStaleAnnounces: 3,
  /** One PeerJS signaling message (SDP offers are a few KiB). */
  signalingMessageBytes: 64 * 1024,
  playlistBytes: 1024 * 1024,
  upstreamTimeoutMs: 30_000,
  /** Range of the embedded source's constant bitrate (`bitrateKbps`). */
  minBitrateKbps: 50,
  maxBitrateKbps: 50_000,
} as const;

export type AdapterInput = Partial<Omit<AdapterOptions, 'connections'>> & { readonly connections?: Partial<ConnectionLimits> };

export function resolveOptions(input: AdapterInput): AdapterOptions {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const merged = { ...DEFAULT_ADAPTER_OPTIONS, ...defined } as Omit<AdapterOptions, 'source' | 'connections'> & { source?: boolean };
  const connections: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...input.connections };
  // A broadcast (an RTMP push or an input) replaces the embedded test pattern.
  const broadcast = merged.ingest !== undefined || merged.input !== undefined;
  const opts: AdapterOptions = { ...merged, connections, source: !broadcast && (merged.source ?? merged.upstream === undefined) };
  validate(opts);
  return opts;
}

/** A broadcast source: an RTMP ingest with its key, or an input; neither with an upstream. */
function validateBroadcast(o: AdapterOptions, bad: (msg: string) => never): void {
  if (o.ingest !== undefined && o.ingest !== 'rtmp') bad(`ingest must be rtmp, got ${String(o.ingest)}`);
  if (o.ingest !== undefined && o.input !== undefined) bad('ingest and input exclude each other');
  if ((o.ingest !== undefined || o.input !== undefined) && o.upstream !== undefined) bad('a broadcast (ingest or input) and upstream exclude each other');
  if (o.ingest !== undefined && (o.streamKey === undefined || !STREAM_KEY_PATTERN.test(o.streamKey))) {
    bad('ingest rtmp needs a stream key (--stream-key or RELAYCAST_STREAM_KEY): 8-256 characters of A-Z a-z 0-9 . _ ~ -');
  }
  if (!Number.isInteger(o.ingestPort) || o.ingestPort < 0 || o.ingestPort > 65535) bad(`bad ingest port ${String(o.ingestPort)}`);
  if (o.input !== undefined && (o.input.length === 0 || o.input.length > 2048 || o.input.startsWith('-'))) bad('input must be a file or URL (not starting with -)');
  if (o.loop && o.input === undefined) bad('loop needs an input');
  if (o.title !== undefined && (o.title.length === 0 || o.title.length > 200)) bad('title must be 1..200 characters');
  if ((o.ingest !== undefined || o.input !== undefined) && o.bitrateKbps !== undefined) bad('bitrateKbps is for the embedded test pattern');
}

function validate(o: AdapterOptions): void {
  const bad = (msg: string): never => {
    throw new RangeError(`relaycast adapter: ${msg}`);
  };
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) bad(`bad port ${String(o.port)}`);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(o.streamName)) bad('streamName must match [A-Za-z0-9_-]{1,64}');
  if (!Number.isInteger(o.segmentSec) || o.segmentSec < 1 || o.segmentSec > 30) bad('segmentSec must be an integer 1..30');
  if (!Number.isInteger(o.windowSegments) || o.windowSegments < 3 || o.windowSegments > 100) bad('windowSegments must be an integer 3..100');
  if (!Number.isInteger(o.renditions) || o.renditions < 1 || o.renditions > 3) bad('renditions must be 1, 2 or 3');
  if (o.bitrateKbps !== undefined) {
    if (!Number.isInteger(o.bitrateKbps) || o.bitrateKbps < ADAPTER_LIMITS.minBitrateKbps || o.bitrateKbps > ADAPTER_LIMITS.maxBitrateKbps) {
      bad(`bitrateKbps must be an integer ${ADAPTER_LIMITS.minBitrateKbps}..${ADAPTER_LIMITS.maxBitrateKbps}`);
    }
    if (o.renditions !== 1) bad('bitrateKbps needs renditions 1');
  }
  if (!Number.isInteger(o.vodSec) || o.vodSec < 0 || o.vodSec > 3600) bad('vodSec must be an integer 0..3600');
  validateBroadcast(o, bad);
  if (!isPlayerName(o.player)) bad(`unknown player ${String(o.player)}`);
  if (!Number.isInteger(o.announceIntervalMs) || o.announceIntervalMs < 500 || o.announceIntervalMs > 600_000) {
    bad('announceIntervalMs must be an integer 500..600000');
  }
  const ice = iceOptionsError(o);
  if (ice !== null) bad(ice);
  for (const [k, v] of Object.entries(o.connections)) if (!Number.isInteger(v) || v < 1) bad(`connections.${k} must be a positive integer`);
  if (o.redis !== undefined) {
    if (!isRedisUrl(o.redis)) bad(`redis must be a redis:// URL: ${o.redis}`);
    if (!o.signaling) bad('redis shares signaling and tracker state: it needs signaling');
  }
  if (o.upstream !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(o.upstream);
    } catch {
      u = undefined;
    }
    if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:')) bad(`upstream must be an http(s) URL: ${o.upstream}`);
  }
}
