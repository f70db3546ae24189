/** The contracts around one peer link: its channel, what it learns, what it asks its owner. */
import type { Bitfield } from '../../protocol/pieces.js';
import type { FreshSegment, MissReason, SegmentInfo } from '../../protocol/peer.js';

/** A reliable, ordered message channel (a PeerJS `raw` data channel, or a fake in tests). */
export interface Channel {
  send(data: string | ArrayBuffer): void;
  bufferedAmount(): number;
  /** Resolves once the send buffer holds at most `belowBytes` (default: its low-water mark), or the channel closed. */
  drained(belowBytes?: number): Promise<void>;
  close(): void;
}

/** What a peer announced of one segment. */
export interface RemoteCopy {
  readonly seq: number;
  readonly bytes: number;
  readonly hop: number | undefined;
  /** The pieces it holds; undefined: all of them. */
  readonly pieces: Bitfield | undefined;
}

/** A piece the peer asked this page for. */
export interface PieceRequest {
  readonly reqId: number;
  readonly id: string;
  readonly piece: number;
  /** The peer has no hash list for the segment yet: send it first. */
  readonly hashes: boolean;
}

export type PieceResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly reason: 'busy' | 'miss' | 'timeout' | 'closed' | 'aborted' | 'not ready' | 'too many' | 'unknown' };

export interface LinkConfig {
  /** Piece size of this swarm (protocol/pieces.ts PIECE_BYTES; the simulator scales it). */
  readonly pieceBytes: number;
  /** Piece requests this page may have pending on one link (and accepts from one peer). */
  readonly maxPendingPieces: number;
}

/** What a link asks of its owner (the swarm); `L` is the link (PeerLink). */
export interface LinkHandlerOf<L> {
  onReady(link: L): void;
  /** The peer announced segments or pieces (already in `remoteHas`). */
  onHave(link: L, segments: readonly SegmentInfo[]): void;
  /** The peer's playlist lists these segments, and it had not heard of them from anyone. */
  onFresh?(link: L, segments: readonly FreshSegment[]): void;
  /** The peer asks for a piece: queue it for upload (answered later), or say why not now. */
  onRequest(link: L, r: PieceRequest): MissReason | undefined;
  /** The peer no longer wants request `reqId`. */
  onCancel(link: L, reqId: number): void;
  /** A hash list for `id` arrived (not yet checked against the published root). */
  onHashes(link: L, id: string, list: Uint8Array): void;
  /** The peer is pushing a piece (its frame follows): true if this page wants it. */
  onPush(link: L, push: IncomingPushInfo): boolean;
  /** The peer's place in the stripes' trees changed (`remoteTree`). */
  onTree(link: L): void;
  /** The peer asks to be fed stripe `s` (`on`) or no longer; `interior`: it relays that stripe onward. */
  onSub(link: L, s: number, on: boolean, interior: boolean): void;
  /** The peer feeds this page stripe `s` from now on (`ok`), or refused or stopped. */
  onFeed(link: L, s: number, ok: boolean): void;
  /** A pushed piece arrived (`bytes`), or will not (undefined: not wanted, or the link closed). */
  onPushed(link: L, id: string, piece: number, total: number, bytes: Uint8Array | undefined): void;
  onClose(link: L, reason: string): void;
}

/** A piece a peer says it is pushing: segment `id` (`seq`, `bytes` long), piece `piece`. */
export interface IncomingPushInfo {
  readonly id: string;
  readonly seq: number;
  readonly bytes: number;
  readonly piece: number;
}

/** A peer's place in the stripes' trees (protocol/peer.ts `tree`). */
export interface TreeAdvert {
  /** Per stripe: hops below the heads where it can feed others, -1 where it cannot. */
  readonly depth: readonly number[];
  /** Stripes it has no feed of (bit s). */
  readonly need: number;
  readonly up: boolean;
}

/** A piece this page asked a peer for and awaits. */
export interface PendingPiece {
  readonly id: string;
  readonly piece: number;
  readonly total: number;
  readonly sentMs: number;
  readonly finish: (r: PieceResult) => void;
}

/** Segments a peer's announcements are remembered for, per link. */
export const MAX_REMOTE_HAVE = 256;
/** Control messages a peer may send: a burst, then a steady rate; more is a protocol violation. */
export const MSG_BURST = 300;
export const MSG_PER_SEC = 100;
