/**
 * `npm run load -- … --attack`: the attack suite (e2e/attack) against the embedded adapter while
 * the viewers play. It runs in a child process, so its own sockets and buffers are not counted
 * as the adapter's memory; it reads the adapter's RSS from /proc (the process listening on the
 * adapter's port: the load tool itself when the adapter runs in it).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AttackReport } from '../attack/run.js';

export interface LoadAttack {
  /** Probes sent (requests, frames, sockets). */
  readonly probes: number;
  /** The adapter's RSS growth during the attack (peak minus before), MB; null when it could not be read. */
  readonly adapterRssGrowthMB: number | null;
  readonly adapterRssBeforeMB: number | null;
  readonly adapterRssPeakMB: number | null;
  readonly startedSec: number;
  readonly durationSec: number;
  /** Probes the adapter refused, in all. */
  readonly refused: number;
  readonly adapterErrors: number;
  readonly failedChecks: string[];
  readonly alive: boolean;
  /** Set when the suite did not run or its report could not be read. */
  readonly error?: string;
}

const CLI = fileURLToPath(new URL('../attack/cli.ts', import.meta.url));

/** Starts the suite against `adapterUrl` for at most `maxSeconds`; resolves with its figures when it ends. */
export function attackDuringLoad(adapterUrl: string, maxSeconds: number, startedSec: number, progress: (line: string) => void): Promise<LoadAttack> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--url', adapterUrl, '--max-seconds', String(Math.max(5, Math.round(maxSeconds)))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      if (out.length < 1 << 20) out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.startsWith('[attack]')) progress(line.slice(9));
    });
    const fail = (error: string): LoadAttack => ({
      probes: 0, adapterRssGrowthMB: null, adapterRssBeforeMB: null, adapterRssPeakMB: null, startedSec, durationSec: 0,
      refused: 0, adapterErrors: 0, failedChecks: [], alive: false, error,
    });
    child.on('error', (e) => resolve(fail(String(e))));
    child.on('close', () => {
      let r: AttackReport;
      try {
        r = JSON.parse(out) as AttackReport;
      } catch {
        resolve(fail(`no report: ${out.slice(0, 200)}`));
        return;
      }
      resolve({
        probes: r.probes,
        adapterRssGrowthMB: r.rss?.growthMB ?? null,
        adapterRssBeforeMB: r.rss?.beforeMB ?? null,
        adapterRssPeakMB: r.rss?.peakMB ?? null,
        startedSec,
        durationSec: r.durationSec,
        refused: Object.values(r.refused).reduce((a, b) => a + b, 0),
        adapterErrors: r.adapterErrors.count,
        failedChecks: r.checks.filter((c) => !c.ok && !c.skipped).map((c) => c.name),
        alive: r.alive,
      });
    });
  });
}
