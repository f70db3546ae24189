/**
 * ISO 8601 durations and xs:dateTime values as they appear in DASH MPDs
 * (ISO/IEC 23009-1 uses xs:duration and xs:dateTime). Untrusted input: every
 * function returns undefined instead of throwing or returning NaN.
 */

const DURATION_RE =
  /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d*)?)S)?)?$/;

// Calendar units have no fixed length; dash.js and Shaka use 365-day years and 30-day months too.
const UNIT_SEC = [365 * 86_400, 30 * 86_400, 7 * 86_400, 86_400, 3_600, 60, 1] as const;

/** `PT1H2M3.5S` → 3723.5; `P0D` → 0. Negative and empty (`P`, `PT`) durations are rejected. */
export function parseIsoDurationSec(text: string): number | undefined {
  const s = text.trim();
  if (s.length > 64 || s.endsWith('T')) return undefined;
  const m = DURATION_RE.exec(s);
  if (!m) return undefined;
  let total = 0;
  let any = false;
  for (let i = 0; i < UNIT_SEC.length; i++) {
    const v = m[i + 1];
    if (v === undefined) continue;
    any = true;
    total += Number(v) * (UNIT_SEC[i] ?? 0);
  }
  return any && Number.isFinite(total) ? total : undefined;
}

const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/** xs:dateTime → epoch ms. A value without a zone is taken as UTC, as dash.js does. */
export function parseDateTimeMs(text: string): number | undefined {
  const s = text.trim();
  const m = DATETIME_RE.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(m[1] === undefined ? `${s}Z` : s);
  return Number.isFinite(ms) ? ms : undefined;
}
