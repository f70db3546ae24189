import type { ByteRange } from '../../protocol/segment-id.js';
import type { RelaycastConfig } from '../config.js';
import type { Verdict } from '../core/integrity.js';
import type { RelaycastStats } from '../core/stats.js';
import type { Digest } from '../storage/piece-copy.js';
import type { StoredSegment } from '../storage/store.js';
import type { OriginWhy, SegmentFacts } from './heading.js';
import type { OwnersConfig } from './owners.js';
import type { Uploader } from './uploader.js';

/** What a swarm is configured with, and the ports it is given (client/swarm/swarm.ts). */

export type SwarmConfig = OwnersConfig &
  Partial<Pick<RelaycastConfig, 'relayWhileReceiving'>> & {
    /** Stripe trees in a full mesh too, not only beyond it (tests of the trees between a few pages). */
    readonly treesInMesh?: boolean;
  };

export interface SwarmEnv {
  /** This page's peer id, or undefined before signaling opened. */
  readonly selfId: () => string | undefined;
  /**
   * Fetches a known segment (or byte range) from the origin through the worker (counted there);
   * `part`: only these bytes of it (offsets within the segment): a head's stripes, or the pieces
   * no peer delivered in time (`why`).
   */
  readonly originFetch: (url: string, range?: ByteRange, part?: ByteRange, why?: OriginWhy) => Promise<Uint8Array | undefined>;
  /** A listed segment's size and hash list from the origin's publisher (a head needs them before any peer has them). */
  readonly describe?: (id: string) => Promise<SegmentFacts | undefined>;
  /** One more stripe of `bytesPerSec` fits the page's measured uplink besides what it feeds already (every swarm). */
  readonly feedFits?: (bytesPerSec: number) => boolean;
  readonly stats: RelaycastStats;
  /** The page's uplink, shared by its swarms. */
  readonly uploader: Uploader;
  /** Upload consent right now (config, runtime API, Save-Data). */
  readonly uploadAllowed: () => boolean;
  /** Observes every copy stored, with its hop count (measurement: the simulator's hop histogram). */
  readonly onStored?: (id: string, hop: number, bytes: Uint8Array) => void;
  /** Every segment kept in the store (VOD: the optional disk cache keeps it too). */
  readonly onKept?: (seg: StoredSegment) => void;
  /** Live: read this swarm's manifest again now: a peer's playlist lists a segment this page is to fetch. */
  readonly refreshManifest?: () => void;
  /** Checks a whole segment against the origin's published hash. */
  readonly verify: (id: string, bytes: Uint8Array) => Promise<Verdict>;
  /** Checks a segment's hash list against the origin's published piece root. */
  readonly verifyList: (id: string, list: Uint8Array) => Promise<Verdict>;
  /** A peer sent bytes that failed verification: drop it and never use it again. */
  readonly onBadPeer: (peerId: string, reason: string) => void;
  /** Piece size (protocol/pieces.ts PIECE_BYTES; the simulator, whose segments carry fewer real bytes, scales it). */
  readonly pieceBytes?: number;
  /** SHA-256 (default WebCrypto). */
  readonly digest?: Digest;
}
