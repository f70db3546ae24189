/**
 * The counters a page exposes (`relaycast.stats()`): read by sites, the broadcast page and the
 * load tool, so typed once here.
 */
/** Counters readable from the page (`relaycast.stats()`). Bytes are segment payload bytes. */
export interface RelaycastStats {
  /** Segment bytes this page downloaded from peers. */
  peerBytes: number;
  /** Segment bytes this page (its worker) downloaded from the origin. */
  originBytes: number;
  /** Segment bytes this page uploaded to peers. */
  uploadedBytes: number;
  /** Bytes handed to the player, by where they came from. */
  deliveredPeerBytes: number;
  deliveredOriginBytes: number;
  /** Bytes handed to the player from this viewer's VOD disk cache (checked against the published hash again). */
  deliveredCacheBytes: number;
  /** Player segment requests answered by relaycast (its store or a peer) / left to the origin. */
  peerHits: number;
  peerMisses: number;
  /** Segments assembled from the pieces of two or more peers. */
  segmentsFromSeveralPeers: number;
  /** Segments whose last missing pieces the origin filled in (byte ranges) at the player's deadline. */
  filledSegments: number;
  /** Peer pieces, hash lists or copies dropped because they did not match the origin's published hashes (their sender is banned). */
  rejectedSegments: number;
  /** Peer copies dropped because no hash was available to check them. */
  unverifiedSegments: number;
  /** Peers disconnected and not used again this session (bad bytes or protocol violations). */
  bannedPeers: number;
  /** Why the last peer was banned (for operators: a honest-looking peer banned is worth a look). */
  lastBanReason: string | null;
  /** Other viewers this page is connected to (ready links), each counted once however many swarms (renditions, audio) it shares with them. */
  peers: number;
  /**
   * Open connections to other pages by the route ICE chose: both on their own addresses
   * (`host`), through a NAT's mapping found by STUN (`srflx`, also peer-reflexive), or through a
   * TURN relay (`relay`). A connection is counted once its route is known (about a second after open).
   */
  candidates: { host: number; srflx: number; relay: number };
  swarms: number;
  /** The page is controlled by the relaycast worker. */
  controlled: boolean;
  /** P2P is active (not switched off by config, tracker, or a missing worker). */
  p2p: boolean;
  /** This page's PeerJS id, once signaling is open. */
  peerId: string | null;
  /** Last error worth showing (signaling down, ...); null when all is well. */
  lastError: string | null;
  /**
   * The latest player requests that relaycast held over a second or left to the origin after
   * waiting (at most SLOW_REQUESTS_KEPT): when (page clock, s), the segment's file name, how
   * long it was held and the deadline it had (ms), the answer (`hit`: from the store or a peer, or the
   * miss reason) and what the wait went to (client/swarm/swarm.ts GetResult.steps). For operators.
   */
  slowRequests: SlowRequest[];
  /**
   * Data-channel messages this page sent and received, all peers and swarms, by kind: a peer
   * message's `type` (`have`, `request`, …; `keepalive` for an empty `have`), `frame` for a
   * binary piece frame, `mux` for the connection's own channel (client/transport/mux-session.ts).
   * Each kind counts messages and their bytes (characters for text). What the viewer's CPU pays
   * per message is mostly fixed, whatever its size: the numbers say where it goes.
   */
  channel: { sent: Record<string, MessageCount>; received: Record<string, MessageCount> };
  /**
   * Segment bytes that crossed between this page and its service worker: to the worker (peer
   * copies for the player, `rc-hit`) and from it (origin copies, `rc-fetched` and
   * `rc-origin-bytes`), and bytes the page copied before sending. A crossing moves the bytes
   * through an IPC message between the two threads, transferred or not.
   */
  worker: WorkerBoundaryBytes;
}

export interface MessageCount {
  messages: number;
  bytes: number;
}

export interface WorkerBoundaryBytes {
  toWorkerBytes: number;
  fromWorkerBytes: number;
  copiedBytes: number;
}

export interface SlowRequest {
  atSec: number;
  file: string;
  heldMs: number;
  deadlineMs: number;
  answer: string;
  steps: readonly string[];
}
