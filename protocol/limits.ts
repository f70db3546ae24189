/**
 * Hard caps on everything that crosses a runtime boundary. Parsers reject
 * anything larger; these are protocol constants, not tuning knobs.
 */
export const LIMITS = {
  /** PeerJS ids we generate are 36-char UUIDs; allow some slack for custom ids. */
  peerIdChars: 64,
  /** Swarm ids and segment ids are normalized URLs (see segment-id.ts). */
  swarmIdChars: 2048,
  segmentIdChars: 2048,
  /** One JSON control message on a data channel or a worker/page port. */
  controlMessageChars: 64 * 1024,
  /** Segment ids in one `have` announcement. */
  haveItems: 64,
  /** Peers a tracker may return in one answer. */
  trackerPeers: 64,
  /** Largest segment we will carry over the mesh. */
  segmentBytes: 32 * 1024 * 1024,
  /**
   * Binary chunk payload. SCTP max message size in Chromium is 256 KiB and a
   * larger `raw` send silently kills the channel; 64 KiB stays well below and
   * interleaves fairly with control messages.
   */
  chunkPayloadBytes: 64 * 1024,
  /** Segments announced in one playlist update from worker to page. */
  playlistSegments: 512,
} as const;
