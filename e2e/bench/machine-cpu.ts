/**
 * What else used the machine's CPU while a benchmark ran: all the machine's busy time less this
 * process's and its descendants' (browsers, ffmpeg), from /proc. On a machine shared with other
 * work this says how noisy a measurement was. null off Linux.
 */
import { readdirSync, readFileSync } from 'node:fs';

const HZ = 100;

/** Fields after the name of /proc/<pid>/stat (field 3 is index 0). */
function statFields(pid: string): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Ticks of the process and its reaped children: utime, stime, cutime, cstime (fields 14-17). */
function ticksOf(f: readonly string[]): number {
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
}

/** This process and every live descendant, their ticks summed (children reaped count in their parent's). */
function ownTicks(): number {
  const parent = new Map<string, string>();
  const ticks = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const f = statFields(pid);
    if (!f) continue;
    parent.set(pid, f[1] ?? '');
    ticks.set(pid, ticksOf(f));
  }
  const self = String(process.pid);
  let total = 0;
  for (const [pid, t] of ticks) {
    for (let p: string | undefined = pid, hops = 0; p !== undefined && hops < 64; p = parent.get(p), hops++) {
      if (p === self) {
        total += t;
        break;
      }
    }
  }
  return total;
}

/** The machine's busy ticks over all cores, from /proc/stat's first line. */
function machineBusyTicks(): number {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return f.reduce((a, b) => a + b, 0) - idle;
}

export interface CpuMark {
  readonly machine: number;
  readonly own: number;
}

export function ownCpuMark(): CpuMark | null {
  try {
    return { machine: machineBusyTicks(), own: ownTicks() };
  } catch {
    return null;
  }
}

/** CPU seconds others used since `mark` (a child's time counts once it is reaped or while it runs). */
export function otherCpu(mark: CpuMark | null): number | null {
  const now = ownCpuMark();
  if (!mark || !now) return null;
  return Math.max(0, (now.machine - mark.machine - (now.own - mark.own)) / HZ);
}
