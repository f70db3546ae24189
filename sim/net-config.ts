import { LIMITS } from '../protocol/limits.js';

/**
 * The simulated transport under PeerLink (see README.md, "Network model").
 *
 * - Every viewer has one uplink of `uplinkBytesPerSec`, shared by all its
 *   connections by processor sharing (each connection with bytes queued gets an
 *   equal share, like competing congestion-controlled flows at the home router),
 *   or, with sharing 'fifo', one message at a time in send order.
 * - A connection is a reliable, ordered FIFO: a message is delivered whole,
 *   one-way latency after its last byte left the sender's uplink.
 * - Segment payload is carried by fewer real bytes: each binary frame counts
 *   14 header bytes + `payloadScale` virtual bytes per payload byte, so a
 *   segment of 4 kB real bytes costs its full virtual size (e.g. 625 kB) of uplink.
 * - Receivers' downlinks are not modelled (assumed much larger than uplinks).
 */
export interface NetConfig {
  /** Virtual bytes per real payload byte of a binary frame. */
  readonly payloadScale: number;
  /**
   * Virtual payload bytes per frame on the wire. A page sends a segment as frames of
   * 64 KiB (LIMITS.chunkPayloadBytes); the sim's few real bytes fit one frame, so the
   * channel splits it again into valid frames of this virtual size: the receiver then
   * hears from the sender as often as it would (PeerLink liveness), and concurrent
   * uploads interleave at frame granularity.
   */
  readonly wireChunkBytes: number;
  /** Per-message transport overhead (SCTP + DTLS + UDP/IP headers), virtual bytes. */
  readonly messageOverheadBytes: number;
  /** `drained()` resolves at or below this many buffered bytes (the page's bufferedAmountLowThreshold). */
  readonly lowWaterBytes: number;
  /**
   * How a viewer's connections share its uplink: 'fair' (processor sharing, like
   * congestion-controlled flows through one home router: the realistic default) or
   * 'fifo' (one message at a time in send order: what a page that serialized its
   * uploads would get).
   */
  readonly sharing: 'fair' | 'fifo';
}

export const DEFAULT_NET: NetConfig = {
  payloadScale: 1,
  wireChunkBytes: LIMITS.chunkPayloadBytes,
  messageOverheadBytes: 40,
  lowWaterBytes: 256 * 1024,
  sharing: 'fair',
};
