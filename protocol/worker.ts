import { isRecord, isSafeId, readArray, readInt, readNumber, readString } from './guards.js';
import { LIMITS } from './limits.js';
import { err, ok, type Result } from './result.js';
import type { ByteRange } from './segment-id.js';

/**
 * Service worker <-> page messages. Service workers have no RTCPeerConnection
 * (w3c/webrtc-pc#2553), so the worker decides and the page transports.
 * Every type is prefixed `rc-` so a site's own worker messages never collide.
 */

export interface PlaylistSegment {
  readonly id: string;
  readonly url: string;
  readonly seq: number;
  readonly durationSec: number;
  /** The segment is this byte range of `url` (EXT-X-BYTERANGE, DASH mediaRange). */
  readonly range?: ByteRange;
  /** SHA-256 of the segment (base64url) as the origin published it, when the playlist carried it. */
  readonly sha256?: string;
  /** The segment's piece root (protocol/pieces.ts) as the origin published it, when the playlist carried it. */
  readonly pieceRoot?: string;
}

/** Worker -> page: a media playlist of `swarm` passed through the worker. */
export interface PlaylistUpdate {
  readonly type: 'rc-playlist';
  readonly swarm: string;
  readonly targetDurationSec: number;
  readonly live: boolean;
  /** The origin publishes segment hashes (X-Relaycast-Integrity): peer bytes can be verified. */
  readonly integrity: boolean;
  readonly segments: readonly PlaylistSegment[];
}

/** Worker -> page (with a reply port): the player wants this segment. */
export interface SegmentGet {
  readonly type: 'rc-get';
  readonly reqId: number;
  readonly swarm: string;
  readonly id: string;
  readonly seq: number;
  /** The worker's own cap; the page may answer sooner (buffer-based deadline). */
  readonly maxWaitMs: number;
}

/** Worker -> page: bytes the worker fetched from the origin, for the page to serve to peers. */
export interface SegmentFetched {
  readonly type: 'rc-fetched';
  readonly swarm: string;
  readonly id: string;
  readonly seq: number;
  readonly bytes: ArrayBuffer;
  /** Milliseconds from the worker's origin request to the whole body (the player's fallback time). */
  readonly fetchMs?: number;
}

/** A fetch time past this is not a number we trust (the worker's own cap is seconds). */
const MAX_FETCH_MS = 600_000;

export type WorkerToPage = PlaylistUpdate | SegmentGet | SegmentFetched;

/** Page -> worker (reply on the port of `rc-get`). */
export type SegmentReply =
  | { readonly type: 'rc-hit'; readonly reqId: number; readonly bytes: ArrayBuffer }
  | { readonly type: 'rc-miss'; readonly reqId: number; readonly reason: string };

/** Page -> worker: "this page runs a mesh" (sent periodically; workers lose globals when stopped). */
export interface MeshHello {
  readonly type: 'rc-mesh';
}

/** Page -> worker (with a reply port): fetch this known segment from the origin for me. */
export interface OriginFetch {
  readonly type: 'rc-origin-fetch';
  readonly reqId: number;
  readonly url: string;
  readonly range?: ByteRange;
  /** Only these bytes of the segment (offsets within it): the pieces no peer delivered in time. */
  readonly part?: ByteRange;
}

export type OriginReply =
  | { readonly type: 'rc-origin-bytes'; readonly reqId: number; readonly bytes: ArrayBuffer }
  | { readonly type: 'rc-origin-failed'; readonly reqId: number; readonly reason: string };

/** Page -> worker: manifests this page loaded; the worker fetches and learns any it does not know. */
export interface ManifestsSeen {
  readonly type: 'rc-learn';
  readonly urls: readonly string[];
}

/**
 * Page -> worker: a peer says this live swarm has a segment newer than the page knows, and the
 * page is to fetch it for the swarm: read the swarm's manifest again now instead of at the
 * player's next refresh.
 */
export interface RefreshManifest {
  readonly type: 'rc-refresh';
  readonly swarm: string;
}

export type PageToWorker = MeshHello | OriginFetch | ManifestsSeen | RefreshManifest;

const MAX_LEARN_URLS = 16;

const REQ_MAX = 0xffff_ffff;

/** Absent: undefined; present: a closed range no longer than a segment may be, else 'bad'. */
function parseRange(v: unknown): ByteRange | undefined | 'bad' {
  if (v === undefined) return undefined;
  if (!isRecord(v)) return 'bad';
  const start = readInt(v, 'start', 0, Number.MAX_SAFE_INTEGER);
  const end = readInt(v, 'end', 0, Number.MAX_SAFE_INTEGER);
  if (start === undefined || end === undefined || end < start || end - start + 1 > LIMITS.segmentBytes) return 'bad';
  return { start, end };
}

function parsePlaylistSegment(v: unknown): PlaylistSegment | undefined {
  if (!isRecord(v)) return undefined;
  const id = v['id'];
  const url = readString(v, 'url', LIMITS.segmentIdChars);
  const seq = readInt(v, 'seq', 0, Number.MAX_SAFE_INTEGER);
  const durationSec = readNumber(v, 'durationSec', 0, 3600);
  const range = parseRange(v['range']);
  if (!isSafeId(id, LIMITS.segmentIdChars) || url === undefined || seq === undefined || durationSec === undefined || range === 'bad') return undefined;
  const sha = v['sha256'];
  if (sha !== undefined && !isSha256(sha)) return undefined;
  const root = v['pieceRoot'];
  if (root !== undefined && !isSha256(root)) return undefined;
  return {
    id, url, seq, durationSec,
    ...(range ? { range } : {}),
    ...(sha !== undefined ? { sha256: sha } : {}),
    ...(root !== undefined ? { pieceRoot: root } : {}),
  };
}

/** SHA-256 in base64url without padding: 43 characters. */
export function isSha256(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9_-]{43}$/.test(v);
}

function isBuffer(v: unknown, maxBytes: number): v is ArrayBuffer {
  return v instanceof ArrayBuffer && v.byteLength > 0 && v.byteLength <= maxBytes;
}

export function parseWorkerToPage(v: unknown): Result<WorkerToPage> {
  if (!isRecord(v)) return err('not an object');
  const swarm = v['swarm'];
  switch (v['type']) {
    case 'rc-playlist': {
      const targetDurationSec = readNumber(v, 'targetDurationSec', 0, 3600);
      const live = v['live'];
      const integrity = v['integrity'];
      const segments = readArray(v, 'segments', LIMITS.playlistSegments, parsePlaylistSegment);
      if (
        !isSafeId(swarm, LIMITS.swarmIdChars) || targetDurationSec === undefined || typeof live !== 'boolean' ||
        typeof integrity !== 'boolean' || segments === undefined
      ) {
        return err('bad rc-playlist');
      }
      return ok({ type: 'rc-playlist', swarm, targetDurationSec, live, integrity, segments });
    }
    case 'rc-get': {
      const reqId = readInt(v, 'reqId', 0, REQ_MAX);
      const id = v['id'];
      const seq = readInt(v, 'seq', 0, Number.MAX_SAFE_INTEGER);
      const maxWaitMs = readInt(v, 'maxWaitMs', 0, 60_000);
      if (reqId === undefined || seq === undefined || maxWaitMs === undefined || !isSafeId(swarm, LIMITS.swarmIdChars) || !isSafeId(id, LIMITS.segmentIdChars)) {
        return err('bad rc-get');
      }
      return ok({ type: 'rc-get', reqId, swarm, id, seq, maxWaitMs });
    }
    case 'rc-fetched': {
      const id = v['id'];
      const seq = readInt(v, 'seq', 0, Number.MAX_SAFE_INTEGER);
      const bytes = v['bytes'];
      if (seq === undefined || !isSafeId(swarm, LIMITS.swarmIdChars) || !isSafeId(id, LIMITS.segmentIdChars) || !isBuffer(bytes, LIMITS.segmentBytes)) {
        return err('bad rc-fetched');
      }
      const fetchMs = v['fetchMs'] === undefined ? undefined : readInt(v, 'fetchMs', 0, MAX_FETCH_MS);
      if (v['fetchMs'] !== undefined && fetchMs === undefined) return err('bad rc-fetched');
      return ok({ type: 'rc-fetched', swarm, id, seq, bytes, ...(fetchMs === undefined ? {} : { fetchMs }) });
    }
    default:
      return err('unknown type');
  }
}

export function parseSegmentReply(v: unknown): Result<SegmentReply> {
  if (!isRecord(v)) return err('not an object');
  const reqId = readInt(v, 'reqId', 0, REQ_MAX);
  if (reqId === undefined) return err('bad reqId');
  if (v['type'] === 'rc-hit') {
    const bytes = v['bytes'];
    return isBuffer(bytes, LIMITS.segmentBytes) ? ok({ type: 'rc-hit', reqId, bytes }) : err('bad bytes');
  }
  if (v['type'] === 'rc-miss') {
    return ok({ type: 'rc-miss', reqId, reason: readString(v, 'reason', 200) ?? 'unspecified' });
  }
  return err('unknown type');
}

export function parsePageToWorker(v: unknown): Result<PageToWorker> {
  if (!isRecord(v)) return err('not an object');
  if (v['type'] === 'rc-mesh') return ok({ type: 'rc-mesh' });
  if (v['type'] === 'rc-learn') {
    const urls = readArray(v, 'urls', MAX_LEARN_URLS, (u) => (typeof u === 'string' && u.length <= LIMITS.segmentIdChars ? u : undefined));
    return urls === undefined ? err('bad rc-learn') : ok({ type: 'rc-learn', urls });
  }
  if (v['type'] === 'rc-refresh') {
    const swarm = v['swarm'];
    return isSafeId(swarm, LIMITS.swarmIdChars) ? ok({ type: 'rc-refresh', swarm }) : err('bad rc-refresh');
  }
  if (v['type'] === 'rc-origin-fetch') {
    const reqId = readInt(v, 'reqId', 0, REQ_MAX);
    const url = readString(v, 'url', LIMITS.segmentIdChars);
    const range = parseRange(v['range']);
    const part = parseRange(v['part']);
    if (reqId === undefined || url === undefined || range === 'bad' || part === 'bad') return err('bad rc-origin-fetch');
    if (part && range && part.end > range.end - range.start) return err('bad rc-origin-fetch');
    return ok({ type: 'rc-origin-fetch', reqId, url, ...(range ? { range } : {}), ...(part ? { part } : {}) });
  }
  return err('unknown type');
}

export function parseOriginReply(v: unknown): Result<OriginReply> {
  if (!isRecord(v)) return err('not an object');
  const reqId = readInt(v, 'reqId', 0, REQ_MAX);
  if (reqId === undefined) return err('bad reqId');
  if (v['type'] === 'rc-origin-bytes') {
    const bytes = v['bytes'];
    return isBuffer(bytes, LIMITS.segmentBytes) ? ok({ type: 'rc-origin-bytes', reqId, bytes }) : err('bad bytes');
  }
  if (v['type'] === 'rc-origin-failed') {
    return ok({ type: 'rc-origin-failed', reqId, reason: readString(v, 'reason', 200) ?? 'unspecified' });
  }
  return err('unknown type');
}
