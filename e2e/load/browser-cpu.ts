/**
 * CPU time of one Chromium and its child processes, by process type and by thread, read while
 * a load run plays (`npm run bench:cpu`). The browser names its processes and their types
 * (CDP `SystemInfo.getProcessInfo`); /proc/<pid>/task/<tid>/stat gives each thread's name and
 * its user + system time on Linux. Elsewhere only the browser's own per-process total is known.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Browser, CDPSession } from 'playwright-core';
import { isRecord } from '../../protocol/guards.js';

/** Cumulative CPU seconds since each process started, summed over every process seen so far (exited ones keep their last value). */
export interface CpuSnapshot {
  readonly tSec: number;
  readonly byProcess: Readonly<Record<string, number>>;
  /** `<process type>/<thread>`; empty where /proc cannot be read. */
  readonly byThread: Readonly<Record<string, number>>;
}

/** Clock ticks per second of /proc's utime and stime. */
function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** 'network.mojom.NetworkService' -> 'network'; 'GPU' -> 'gpu'; 'renderer', 'browser' as they are. */
export function processLabel(type: string): string {
  const m = /^(\w+)\.mojom\.(\w+?)(Service)?$/.exec(type);
  if (m) return m[1] === 'network' ? 'network' : `utility:${(m[1] ?? '').toLowerCase()}`;
  return type.toLowerCase();
}

/** Chromium's thread names, as Linux keeps them (15 characters), in words. The process's first thread is `main`. */
const THREAD_NAMES: Readonly<Record<string, string>> = {
  'ServiceWorker t': 'service-worker',
  WebRTC_W_and_N: 'webrtc-worker-network',
  WebRTC_Signalin: 'webrtc-signaling',
  WebRTC_Network: 'webrtc-network',
  WebRTC_Worker: 'webrtc-worker',
  Chrome_ChildIOT: 'io',
  Chrome_IOThread: 'io',
  ThreadPoolForeg: 'thread-pool',
  ThreadPoolBackg: 'thread-pool-background',
  ThreadPoolSingl: 'thread-pool-single',
  Compositor: 'compositor',
  VizCompositorTh: 'viz-compositor',
  CompositorTileW: 'compositor-tiles',
  Media: 'media',
  VideoFrameCompo: 'video-frame-compositor',
  DedicatedWorker: 'dedicated-worker',
  DevToolsPipeHan: 'devtools',
  AudioOutputDevi: 'audio-output',
};

export function threadLabel(comm: string, isMain: boolean): string {
  return isMain ? 'main' : (THREAD_NAMES[comm] ?? comm);
}

/** A /proc/<pid>/task/<tid>/stat line: the thread's name and its user + system ticks. */
export function parseTaskStat(line: string): { name: string; ticks: number } | undefined {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  // Fields after the name: state is field 3, utime field 14, stime field 15 (proc(5)).
  const rest = line.slice(close + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  return Number.isFinite(ticks) ? { name: line.slice(open + 1, close), ticks } : undefined;
}

interface Proc {
  readonly label: string;
  /** Seconds the browser reports for the process. */
  cdpSec: number;
  /** Per thread id: name and ticks, as last read. */
  readonly threads: Map<number, { label: string; ticks: number }>;
}

function readThreads(pid: number, p: Proc): boolean {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  for (const t of tids) {
    try {
      const s = parseTaskStat(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8'));
      if (s) p.threads.set(Number(t), { label: threadLabel(s.name, Number(t) === pid), ticks: s.ticks });
    } catch {
      // The thread ended between the listing and the read: its last value stays.
    }
  }
  return true;
}

function parseProcessInfo(v: unknown): { type: string; id: number; cpuTime: number }[] {
  const list = isRecord(v) ? v['processInfo'] : undefined;
  if (!Array.isArray(list)) return [];
  const out: { type: string; id: number; cpuTime: number }[] = [];
  for (const p of list) {
    if (!isRecord(p)) continue;
    const { type, id, cpuTime } = p;
    if (typeof type === 'string' && typeof id === 'number' && typeof cpuTime === 'number') out.push({ type, id, cpuTime });
  }
  return out;
}

/** Samples one browser's processes; `sample()` at every poll of the run. */
export class BrowserCpu {
  private readonly procs = new Map<number, Proc>();
  private readonly hz = clockTicks();

  private constructor(private readonly cdp: CDPSession) {}

  static async attach(browser: Browser): Promise<BrowserCpu> {
    return new BrowserCpu(await browser.newBrowserCDPSession());
  }

  async sample(tSec: number): Promise<CpuSnapshot> {
    let info: { type: string; id: number; cpuTime: number }[] = [];
    try {
      info = parseProcessInfo(await this.cdp.send('SystemInfo.getProcessInfo'));
    } catch {
      // The browser is closing: the processes keep their last values.
    }
    for (const { type, id, cpuTime } of info) {
      let p = this.procs.get(id);
      if (!p) this.procs.set(id, (p = { label: processLabel(type), cdpSec: 0, threads: new Map() }));
      p.cdpSec = cpuTime;
      readThreads(id, p);
    }
    const byProcess: Record<string, number> = {};
    const byThread: Record<string, number> = {};
    for (const p of this.procs.values()) {
      let procSec = 0;
      for (const t of p.threads.values()) {
        const sec = t.ticks / this.hz;
        procSec += sec;
        const key = `${p.label}/${t.label}`;
        byThread[key] = (byThread[key] ?? 0) + sec;
      }
      // Without /proc, the browser's own count.
      byProcess[p.label] = (byProcess[p.label] ?? 0) + (p.threads.size > 0 ? procSec : p.cdpSec);
    }
    return { tSec, byProcess, byThread };
  }

  async detach(): Promise<void> {
    await this.cdp.detach().catch(() => undefined);
  }
}

/** Seconds spent between two snapshots, per key (keys of `b` only: a process seen later started at 0). */
export function cpuBetween(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) out[k] = Math.max(0, v - (a[k] ?? 0));
  return out;
}
