import { readFileSync } from 'node:fs';

/** Jiffies of the whole machine from /proc/stat's first line: [busy, total]. null off Linux. */
function readCpu(): [number, number] | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    if (f.length < 4 || f.some((x) => !Number.isFinite(x))) return null;
    const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
    const total = f.reduce((a, b) => a + b, 0);
    return [total - idle, total];
  } catch {
    return null;
  }
}

/**
 * The machine's CPU use since the previous call, 0..1 over all cores (null off Linux or on the
 * first call). The load runs are CPU-bound on small machines: this says when they were.
 */
export function cpuMeter(): () => number | null {
  let prev = readCpu();
  return () => {
    const cur = readCpu();
    const p = prev;
    prev = cur;
    if (!cur || !p || cur[1] <= p[1]) return null;
    return Math.round(((cur[0] - p[0]) / (cur[1] - p[1])) * 100) / 100;
  };
}
