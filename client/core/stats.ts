import type { RelaycastStats } from '../../protocol/stats.js';

export type { MessageCount, RelaycastStats, SlowRequest, WorkerBoundaryBytes } from '../../protocol/stats.js';

export const SLOW_REQUESTS_KEPT = 32;
/** A request held this long is logged in slowRequests. */
export const SLOW_REQUEST_MS = 1000;

export function emptyStats(): RelaycastStats {
  return {
    peerBytes: 0,
    originBytes: 0,
    uploadedBytes: 0,
    deliveredPeerBytes: 0,
    deliveredOriginBytes: 0,
    deliveredCacheBytes: 0,
    peerHits: 0,
    peerMisses: 0,
    segmentsFromSeveralPeers: 0,
    filledSegments: 0,
    rejectedSegments: 0,
    unverifiedSegments: 0,
    bannedPeers: 0,
    lastBanReason: null,
    peers: 0,
    candidates: { host: 0, srflx: 0, relay: 0 },
    swarms: 0,
    controlled: false,
    p2p: false,
    peerId: null,
    lastError: null,
    slowRequests: [],
    channel: { sent: {}, received: {} },
    worker: { toWorkerBytes: 0, fromWorkerBytes: 0, copiedBytes: 0 },
  };
}
