/**
 * Every client default in one place. Units are in the names. Modules take a
 * `Pick<>` of this so their dependencies stay visible.
 */
export interface RelaycastConfig {
  /** The worker script; served by the adapter with `Service-Worker-Allowed: /`. */
  readonly swUrl: string;
  readonly swScope: string;
  /**
   * PeerJS signaling (the adapter's). Absolute or relative to the page. Never the PeerJS cloud.
   * A list: the nodes of a cluster of adapters (`--redis`), tried in this order; when the one in
   * use goes away the page reconnects to the next within seconds, keeping its id and its peer
   * connections. Put the nodes in a different order on different pages to spread them (one URL
   * behind a WebSocket-aware load balancer does the same).
   */
  readonly signalUrl: string | readonly string[];
  /** The tracker; a list as for `signalUrl` (a page uses the tracker at the position of its signaling node). */
  readonly trackerUrl: string | readonly string[];
  /** ICE servers for WebRTC. Empty on loopback/LAN; add STUN/TURN for the internet. */
  readonly iceServers: readonly RTCIceServer[];
  /**
   * Where the adapter hands out more ICE servers (GET, JSON `{iceServers, ttlSec}`): STUN, and
   * TURN with credentials that expire (the adapter's --turn-url and --turn-secret). Added to
   * `iceServers`; null: only `iceServers`. Absent (404) or unreachable: only `iceServers`.
   */
  readonly iceUrl: string | null;
  /**
   * Privacy: use only TURN relays for WebRTC (iceTransportPolicy 'relay'), so viewers never see
   * each other's IP addresses. Needs a TURN server in `iceServers`.
   */
  readonly relayOnly: boolean;
  /** Most peers connected per swarm. */
  readonly maxPeers: number;
  /** Give up on a PeerJS connection that has not opened after this long (connect() can fail silently). */
  readonly connectTimeoutMs: number;
  /**
   * Keep at least this much media in the buffer untouched: a peer fetch must finish this long
   * before the player would run dry. A floor: the page raises it to twice its slowest recent
   * fallback (client/origin-pace.ts).
   */
  readonly safetyMarginMs: number;
  /** Upper bound on waiting for peers for one player request, whatever the buffer says. */
  readonly maxPeerWaitMs: number;
  /** Bytes of segments kept for serving peers (per page; split evenly between the swarms a page may join). */
  readonly maxStoreBytes: number;
  /** Segments behind the newest one kept in the store (the live window plus slack). */
  readonly keepSegments: number;
  /**
   * Relay a copy onward while it is still arriving from a peer (cut-through): peers are told at
   * its first bytes and get its frames as they come, the last one only once it matched the
   * origin's hash. Every hop then adds a frame's time instead of a whole segment's.
   */
  readonly relayWhileReceiving: boolean;
  /** How many peers fetch each new segment from the origin for the swarm (rendezvous-hash owners). */
  readonly originFetchers: number;
  /**
   * In a full mesh, a page fetches for the swarm, and is waited for as an owner, only once it
   * (and its link) has been in the swarm this long: a page that just joined is busy starting its
   * player. Measured: with 10 viewers on 2 cores, owners handed at once to a newcomer cost the
   * others stalls while it started.
   */
  readonly ownerMinAgeMs: number;
  /**
   * The mesh (signaling, tracker, peer connections) starts once the page's video plays, so a
   * viewer's startup never competes with connecting to a dozen peers; after this long also when
   * the page shows no video or audio element (a player in a shadow root). 0 = at once. Measured: on 2 cores with 10 viewers, joins slowed by
   * their own handshakes started late and stayed further behind the live edge.
   */
  readonly startMeshAfterPlayingMs: number;
  /** Serve segments to other viewers (also switched off when the browser asks to save data). */
  readonly upload: boolean;
  /**
   * Upload budget of this viewer in bytes per second, spread over all its peers; 0 = no limit.
   * 'auto': six times the bitrate the page plays, at least 2 MB/s and at most 8 MB/s
   * (client/core/upload-allowance.ts).
   */
  readonly maxUploadBytesPerSec: number | 'auto';
  /** Piece requests one peer may have pending at this page (and this page at one peer); more are answered `busy`. */
  readonly maxUploadsPerPeer: number;
  /**
   * Pieces being sent at once, to all peers. A few at a time, each at the full uplink rate,
   * the oldest segment's first: a dozen shared evenly would each arrive a dozen times later.
   */
  readonly maxUploadsTotal: number;
  /** How often the page tells the worker it runs a mesh. */
  readonly meshHelloIntervalMs: number;
  /**
   * 'required': peer bytes are used only after matching the SHA-256 the origin adapter publishes;
   * without published hashes P2P stays off. 'off' (unverified mode) trusts peers: any viewer could
   * then change what others see. Only for closed, trusted audiences.
   */
  readonly integrity: 'required' | 'off';
  /** Where to look up a segment hash the playlist did not carry (the adapter's /relaycast/hash). */
  readonly hashUrl: string;
  /** Master switch on the client side (the adapter's tracker can also turn P2P off). */
  readonly p2p: boolean;
  /**
   * Segment identity for tokenized URLs: true leaves the whole query out of segment and swarm
   * ids; a list leaves out only those parameters (e.g. ['token', 'expires']), so a query that
   * selects content still tells streams apart. Passed to the worker in its script URL.
   */
  readonly ignoreQuery: boolean | readonly string[];
  /** Multi-CDN: the same path on any host is the same segment (only if every CDN mirrors one origin). */
  readonly ignoreHost: boolean;
  /**
   * VOD only: keep played segments in IndexedDB (idb-keyval) up to this many bytes, so after a
   * reload they play locally and serve later viewers. 0 (default) = memory only.
   */
  readonly persistVodBytes: number;
}

export const DEFAULT_SIGNAL_URL = '/relaycast/signal';
export const DEFAULT_TRACKER_URL = '/relaycast/tracker';

export const DEFAULT_CONFIG: RelaycastConfig = {
  swUrl: '/relaycast/sw.js',
  ignoreQuery: false,
  ignoreHost: false,
  persistVodBytes: 0,
  swScope: '/',
  signalUrl: DEFAULT_SIGNAL_URL,
  trackerUrl: DEFAULT_TRACKER_URL,
  iceServers: [],
  iceUrl: '/relaycast/ice',
  relayOnly: false,
  maxPeers: 20,
  connectTimeoutMs: 8000,
  safetyMarginMs: 1000,
  maxPeerWaitMs: 6000,
  maxStoreBytes: 64 * 1024 * 1024,
  keepSegments: 12,
  ownerMinAgeMs: 10_000,
  startMeshAfterPlayingMs: 10_000,
  relayWhileReceiving: true,
  originFetchers: 1,
  upload: true,
  maxUploadBytesPerSec: 'auto',
  maxUploadsPerPeer: 8,
  maxUploadsTotal: 2,
  meshHelloIntervalMs: 2000,
  integrity: 'required',
  hashUrl: '/relaycast/hash',
  p2p: true,
};

/** The worker script URL with the identity options the worker reads from its query (sw/config.ts). */
export function workerScriptUrl(cfg: Pick<RelaycastConfig, 'swUrl' | 'ignoreQuery' | 'ignoreHost'>, base: string): string {
  const u = new URL(cfg.swUrl, base);
  if (cfg.ignoreQuery === true) u.searchParams.set('ignoreQuery', '1');
  else if (Array.isArray(cfg.ignoreQuery) && cfg.ignoreQuery.length > 0) u.searchParams.set('ignoreParams', cfg.ignoreQuery.join(','));
  if (cfg.ignoreHost) u.searchParams.set('ignoreHost', '1');
  return u.href;
}
