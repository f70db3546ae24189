import { normalizeUrl, segmentId, type ByteRange, type IdOptions } from '../../protocol/segment-id.js';
import { err, ok, type Result } from '../../protocol/result.js';

/**
 * A small HLS playlist reader (RFC 8216): just what the worker needs to know
 * which URLs are segments, their order and duration. It never rewrites the
 * playlist; the player gets the origin's bytes unchanged.
 */

export interface MediaSegment {
  readonly id: string;
  readonly url: string;
  readonly seq: number;
  readonly durationSec: number;
  readonly range?: ByteRange;
}

export type Playlist =
  | { readonly kind: 'master'; readonly variants: readonly string[] }
  | {
      readonly kind: 'media';
      readonly targetDurationSec: number;
      readonly live: boolean;
      readonly segments: readonly MediaSegment[];
      /** Init segments (EXT-X-MAP), shared by later segments. */
      readonly inits: readonly MediaSegment[];
    };

const MAX_CHARS = 4 * 1024 * 1024;
const MAX_SEGMENTS = 20_000;

function attr(line: string, name: string): string | undefined {
  const re = new RegExp(`(?:^|[:,])${name}=("([^"]*)"|[^,]*)`);
  const m = re.exec(line);
  if (!m) return undefined;
  return m[2] ?? m[1];
}

interface RawRange {
  readonly length: number;
  readonly offset: number | undefined;
}

/** Parses `n[@o]` (EXT-X-BYTERANGE, EXT-X-MAP BYTERANGE). */
function parseByteRange(v: string): RawRange | undefined {
  const m = /^(\d+)(?:@(\d+))?$/.exec(v.trim());
  if (!m || m[1] === undefined) return undefined;
  const length = Number(m[1]);
  const offset = m[2] !== undefined ? Number(m[2]) : undefined;
  if (!Number.isSafeInteger(length) || length <= 0) return undefined;
  if (offset !== undefined && !Number.isSafeInteger(offset)) return undefined;
  return { length, offset };
}

export function parsePlaylist(text: string, playlistUrl: string, idOpts?: IdOptions): Result<Playlist> {
  if (text.length > MAX_CHARS) return err('playlist too large');
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== '#EXTM3U') return err('missing #EXTM3U');
  const resolve = (uri: string): string | undefined => normalizeUrl(uri, playlistUrl, idOpts);

  const variants: string[] = [];
  const segments: MediaSegment[] = [];
  const inits: MediaSegment[] = [];
  let isMaster = false;
  let targetDurationSec = 0;
  let seq = 0;
  let live = true;
  let pendingDuration: number | undefined;
  let pendingRange: RawRange | undefined;
  let expectVariantUri = false;
  const rangeEnds = new Map<string, number>();

  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (line.startsWith('#EXT-X-STREAM-INF')) {
        isMaster = true;
        expectVariantUri = true;
      } else if (line.startsWith('#EXT-X-MEDIA:')) {
        const uri = attr(line, 'URI');
        const u = uri !== undefined ? resolve(uri) : undefined;
        if (u !== undefined) variants.push(u);
        isMaster = true;
      } else if (line.startsWith('#EXT-X-TARGETDURATION:')) {
        const n = Number(line.slice(22));
        if (Number.isFinite(n) && n > 0) targetDurationSec = n;
      } else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) {
        const n = Number(line.slice(22));
        if (!Number.isSafeInteger(n) || n < 0) return err('bad media sequence');
        seq = n;
      } else if (line.startsWith('#EXTINF:')) {
        const n = Number.parseFloat(line.slice(8));
        if (!Number.isFinite(n) || n < 0) return err('bad EXTINF');
        pendingDuration = n;
      } else if (line.startsWith('#EXT-X-BYTERANGE:')) {
        pendingRange = parseByteRange(line.slice(17));
        if (pendingRange === undefined) return err('bad EXT-X-BYTERANGE');
      } else if (line.startsWith('#EXT-X-MAP:')) {
        const uri = attr(line, 'URI');
        const u = uri !== undefined ? resolve(uri) : undefined;
        if (u === undefined) return err('bad EXT-X-MAP');
        const br = attr(line, 'BYTERANGE');
        const raw = br !== undefined ? parseByteRange(br) : undefined;
        if (br !== undefined && raw === undefined) return err('bad EXT-X-MAP BYTERANGE');
        const range = raw !== undefined ? { start: raw.offset ?? 0, end: (raw.offset ?? 0) + raw.length - 1 } : undefined;
        inits.push({ id: segmentId(u, range), url: u, seq: -1, durationSec: 0, ...(range ? { range } : {}) });
      } else if (line.startsWith('#EXT-X-ENDLIST')) {
        live = false;
      }
      continue;
    }
    // A URI line.
    const u = resolve(line);
    if (expectVariantUri) {
      expectVariantUri = false;
      if (u !== undefined) variants.push(u);
      continue;
    }
    if (pendingDuration === undefined) return err('segment URI without EXTINF');
    if (u === undefined) return err('bad segment URI');
    let range: ByteRange | undefined;
    if (pendingRange !== undefined) {
      // Without an offset, a sub-range continues where the previous one of this URI ended.
      const start = pendingRange.offset ?? rangeEnds.get(u);
      if (start === undefined) return err('byterange without offset or predecessor');
      range = { start, end: start + pendingRange.length - 1 };
      rangeEnds.set(u, range.end + 1);
    }
    segments.push({ id: segmentId(u, range), url: u, seq, durationSec: pendingDuration, ...(range ? { range } : {}) });
    if (segments.length > MAX_SEGMENTS) return err('too many segments');
    seq += 1;
    pendingDuration = undefined;
    pendingRange = undefined;
  }

  if (isMaster) return ok({ kind: 'master', variants });
  if (targetDurationSec === 0) return err('missing EXT-X-TARGETDURATION');
  return ok({ kind: 'media', targetDurationSec, live, segments, inits });
}
