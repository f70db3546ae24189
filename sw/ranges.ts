/** HTTP byte ranges as the worker meets them: the player's Range header and the origin's Content-Range. */
import type { ByteRange } from '../protocol/segment-id.js';

/**
 * A single closed range `bytes=a-b`, the only form players use for segments.
 * Anything else (open, suffix, multiple) is 'other': the worker passes it through.
 */
export function parseRangeHeader(v: string | null): ByteRange | 'other' | undefined {
  if (v === null) return undefined;
  const m = /^\s*bytes\s*=\s*(\d{1,15})\s*-\s*(\d{1,15})\s*$/i.exec(v);
  if (!m) return 'other';
  const start = Number(m[1]);
  const end = Number(m[2]);
  return end >= start ? { start, end } : 'other';
}

/** The complete length in `Content-Range: bytes a-b/total`, when the origin states it. */
export function parseContentRangeTotal(v: string | null): number | undefined {
  const m = v === null ? null : /^\s*bytes\s+\d+-\d+\/(\d{1,15})\s*$/i.exec(v);
  return m ? Number(m[1]) : undefined;
}

/** The same range and complete length the origin would state; `*` while this worker has not seen the total (RFC 9110 §14.4). */
export function contentRange(r: ByteRange, total: number | undefined): string {
  return `bytes ${r.start}-${r.end}/${total ?? '*'}`;
}
