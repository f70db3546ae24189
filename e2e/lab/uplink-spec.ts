/**
 * The load tool's `--uplink-mbps` value: one upload cap per viewer, in Mbit/s.
 *
 *   4.5              every viewer capped at 4.5 Mbit/s
 *   4.5,4.5,9,2      one cap per viewer, in the order they open (as many as --viewers)
 *   2x9,4x4.5        counts: 2 viewers at 9, then 4 at 4.5 (the counts add up to --viewers)
 *   off              every viewer in the lab with no cap (the same topology, unlimited)
 *
 * Items mix freely (`1x9,off,2x4.5`). `off` (also `Nxoff`) is a viewer without a cap.
 */

/** Mbit/s; null: no cap. */
export type UplinkCap = number | null;

export const UPLINK_LIMITS = {
  minMbps: 0.1,
  maxMbps: 10_000,
} as const;

const ITEM = /^(?:(\d+)x)?(off|\d+(?:\.\d+)?)$/;

/** The caps of `viewers` viewers, or the reason `spec` is not one. */
export function parseUplinkSpec(spec: string, viewers: number): UplinkCap[] | { error: string } {
  const items = spec.split(',').map((s) => s.trim());
  const caps: UplinkCap[] = [];
  let counted = false;
  for (const item of items) {
    const m = ITEM.exec(item);
    if (!m) return { error: `"${item}" is not a cap (Mbit/s like 4.5, "off", or a count like 2x4.5)` };
    const count = m[1] === undefined ? 1 : Number(m[1]);
    if (m[1] !== undefined) counted = true;
    if (count < 1 || count > viewers) return { error: `"${item}": the count must be 1..${viewers}` };
    let cap: UplinkCap = null;
    if (m[2] !== 'off') {
      cap = Number(m[2]);
      if (!(cap >= UPLINK_LIMITS.minMbps && cap <= UPLINK_LIMITS.maxMbps)) {
        return { error: `"${item}": a cap must be ${UPLINK_LIMITS.minMbps}..${UPLINK_LIMITS.maxMbps} Mbit/s` };
      }
    }
    for (let i = 0; i < count; i++) caps.push(cap);
    if (caps.length > viewers && (items.length > 1 || counted)) return { error: `more than ${viewers} caps for ${viewers} viewers` };
  }
  // One plain value is every viewer's cap.
  if (items.length === 1 && !counted) return Array.from({ length: viewers }, () => caps[0] ?? null);
  if (caps.length !== viewers) return { error: `${caps.length} caps for ${viewers} viewers` };
  return caps;
}

/** The compact spec of a list of caps (`2x9,4x4.5`), for logs. */
export function formatUplinks(caps: readonly UplinkCap[]): string {
  const out: string[] = [];
  for (let i = 0; i < caps.length; ) {
    let j = i;
    while (j < caps.length && caps[j] === caps[i]) j++;
    const v = caps[i] === null ? 'off' : String(caps[i]);
    out.push(j - i === 1 ? v : `${j - i}x${v}`);
    i = j;
  }
  return out.join(',');
}
