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

/** What anyone may read at /relaycast/stats: counts only, a few hundred bytes whatever the tracker holds. */
export interface PublicStats extends Pick<AdapterStats, 'originSegmentBytes' | 'originSegmentRequests' | 'originPlaylistRequests' | 'p2p'> {
  readonly swarmCount: number;
  readonly peers: number;
}

export function publicStats(s: AdapterStats): PublicStats {
  const sizes = Object.values(s.swarms);
  return {
    originSegmentBytes: s.originSegmentBytes,
    originSegmentRequests: s.originSegmentRequests,
    originPlaylistRequests: s.originPlaylistRequests,
    swarmCount: sizes.length,
    peers: sizes.reduce((a, b) => a + b, 0),
    p2p: s.p2p,
  };
}

/** Swarms listed in the admin answer: the largest ones. */
export const ADMIN_SWARMS_LISTED = 100;
const MAX_ID_CHARS = 300;

/**
 * A swarm id (a manifest URL, for DASH plus `#period/set/representation`) with its query
 * replaced by `<redacted>`: queries carry signed-URL tokens, which no report should repeat.
 */
export function redactSwarmId(id: string): string {
  const hash = id.indexOf('#');
  const [head, frag] = hash < 0 ? [id, ''] : [id.slice(0, hash), id.slice(hash)];
  const q = head.indexOf('?');
  const out = (q < 0 ? head : `${head.slice(0, q)}?<redacted>`) + frag;
  return out.length > MAX_ID_CHARS ? `${out.slice(0, MAX_ID_CHARS)}…` : out;
}

/** The admin answer: the public counts, the largest swarms (ids redacted), and whatever `extra` adds. */
export function adminStats(s: AdapterStats, extra: Record<string, unknown>): Record<string, unknown> {
  const top = Object.entries(s.swarms)
    .sort((a, b) => b[1] - a[1])
    .slice(0, ADMIN_SWARMS_LISTED);
  const swarms: Record<string, number> = {};
  for (const [id, n] of top) {
    const r = redactSwarmId(id);
    swarms[r] = (swarms[r] ?? 0) + n;
  }
  return { ...publicStats(s), swarms, ...extra };
}
