/** Counters measured at the origin: offload is computed from these, never from client reports. */
import type { MediaKind } from './paths.js';
import type { P2PMode } from './control.js';

export interface AdapterStats {
  /** Segment body bytes handed to clients (embedded files and proxied responses). */
  readonly originSegmentBytes: number;
  readonly originSegmentRequests: number;
  readonly originPlaylistRequests: number;
  /** Peer count per swarm. */
  readonly swarms: Readonly<Record<string, number>>;
  readonly p2p: P2PMode;
}

export interface OriginCounters {
  /** Counts one request by kind; returns the byte counter to pass to the body writer (undefined when not a segment). */
  request(kind: MediaKind): ((n: number) => void) | undefined;
  snapshot(): Pick<AdapterStats, 'originSegmentBytes' | 'originSegmentRequests' | 'originPlaylistRequests'>;
}

export function createCounters(): OriginCounters {
  let segmentBytes = 0;
  let segmentRequests = 0;
  let playlistRequests = 0;
  const addBytes = (n: number): void => {
    segmentBytes += n;
  };
  return {
    request(kind) {
      if (kind === 'playlist') playlistRequests++;
      if (kind !== 'segment') return undefined;
      segmentRequests++;
      return addBytes;
    },
    snapshot: () => ({
      originSegmentBytes: segmentBytes,
      originSegmentRequests: segmentRequests,
      originPlaylistRequests: playlistRequests,
    }),
  };
}
