/**
 * DASH SegmentTemplate identifier substitution (ISO/IEC 23009-1 5.3.9.4.4):
 * `$RepresentationID$`, `$Number$`, `$Time$`, `$Bandwidth$` with an optional
 * `%0<width>[dxXo]` format tag, and `$$` for a literal dollar sign.
 */

export interface TemplateValues {
  readonly RepresentationID: string;
  readonly Bandwidth?: number;
  readonly Number?: number;
  readonly Time?: number;
}

const MAX_WIDTH = 32;
const IDENT_RE = /^(RepresentationID|Number|Time|Bandwidth)(?:%0(\d{1,2})([dxXo]))?$/;

function format(n: number, width: number, conv: string): string {
  const radix = conv === 'd' ? 10 : conv === 'o' ? 8 : 16;
  const s = n.toString(radix);
  return (conv === 'X' ? s.toUpperCase() : s).padStart(width, '0');
}

/** Returns the expanded string, or undefined for a malformed template or a value it needs but lacks. */
export function expandTemplate(template: string, v: TemplateValues): string | undefined {
  const parts = template.split('$');
  // Identifiers sit between pairs of '$': an even number of parts means an unclosed one.
  if (parts.length % 2 === 0) return undefined;
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    if (i % 2 === 0) {
      out += p;
      continue;
    }
    if (p === '') {
      out += '$';
      continue;
    }
    const m = IDENT_RE.exec(p);
    if (!m) return undefined;
    const name = m[1];
    if (name === 'RepresentationID') {
      if (m[2] !== undefined) return undefined; // the spec forbids a format tag here
      out += v.RepresentationID;
      continue;
    }
    const n = name === 'Number' ? v.Number : name === 'Time' ? v.Time : v.Bandwidth;
    if (n === undefined || !Number.isSafeInteger(n) || n < 0) return undefined;
    const width = m[2] !== undefined ? Number(m[2]) : 1;
    if (width > MAX_WIDTH) return undefined;
    out += format(n, width, m[3] ?? 'd');
  }
  return out;
}
