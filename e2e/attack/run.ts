/**
 * The attack suite: hostile clients against a relaycast adapter on this machine's loopback,
 * bounded in probes and time, reporting what was sent, what the adapter refused, any sign of
 * an adapter failure, what must hold (checks), and the adapter's memory when its process can be
 * read. Sources are addresses of their own on 127.0.0.0/8 (Linux routes all of it to `lo`), so
 * per-address caps the suite runs into are not those of real viewers on 127.0.0.1.
 */
import { get, sleep } from './net.js';
import { connectionProbes, httpProbes, mediaProbes, signalingProbes, trackerProbes, type Ctx } from './probes.js';
import { pidListeningOn, rssOf } from './rss.js';
import { discover, loopbackTarget } from './target.js';

export interface AttackOptions {
  readonly url: string;
  readonly adminToken?: string;
  /** Probes in all (requests, frames, sockets). */
  readonly maxProbes: number;
  readonly maxSeconds: number;
  /** A manifest URL to attack the swarms of, instead of discovering the embedded stream. */
  readonly manifest?: string;
  /** Where the adapter's RSS comes from; default: the process listening on the target's port, via /proc. */
  readonly rssBytes?: () => number | undefined;
  readonly progress?: (line: string) => void;
}

export const DEFAULT_ATTACK_OPTIONS = { maxProbes: 4000, maxSeconds: 45 } as const;

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
  /** The budget ran out before the check's probes were all sent: not counted as failed. */
  readonly skipped?: true;
}

export interface AttackReport {
  readonly target: string;
  readonly durationSec: number;
  /** Probes sent, in all and by kind. */
  readonly probes: number;
  readonly sent: Record<string, number>;
  /** Probes the adapter refused (429, 413, 403, 400, closed or cut sockets...), by kind: defences at work. */
  readonly refused: Record<string, number>;
  /** Answers that show an adapter failure (5xx other than 503, no answer where one was due). */
  readonly adapterErrors: { readonly count: number; readonly samples: string[] };
  readonly checks: Check[];
  readonly checksFailed: number;
  readonly checksSkipped: number;
  /** The adapter still answered /relaycast/stats at the end. */
  readonly alive: boolean;
  readonly swarmsAttacked: number;
  readonly rss: { readonly pid?: number; readonly beforeMB: number; readonly peakMB: number; readonly afterMB: number; readonly growthMB: number } | null;
}

const mb = (b: number): number => Math.round((b / 1e6) * 10) / 10;

export async function runAttack(o: AttackOptions): Promise<AttackReport> {
  const t = await loopbackTarget(o.url);
  if (!t.ok) throw new Error(t.reason);
  const base = t.url;
  const t0 = Date.now();
  const deadline = t0 + o.maxSeconds * 1000;
  const sent: Record<string, number> = {};
  const refused: Record<string, number> = {};
  const checks: Check[] = [];
  const errors: string[] = [];
  let errorCount = 0;
  let total = 0;
  let nextSrc = 0;
  const ctxBase = {
    base,
    adminToken: o.adminToken,
    src: () => (t.ipv4 ? `127.0.0.${100 + (nextSrc++ % 150)}` : undefined),
    take: (kind: string, n = 1) => {
      if (total + n > o.maxProbes || Date.now() > deadline) return false;
      total += n;
      sent[kind] = (sent[kind] ?? 0) + n;
      return true;
    },
    refused: (kind: string, n = 1) => {
      if (n > 0) refused[kind] = (refused[kind] ?? 0) + n;
    },
    error: (kind: string, detail: string) => {
      errorCount++;
      if (errors.length < 10) errors.push(`${kind}: ${detail}`);
    },
    check: (name: string, ok: boolean, detail?: string) => {
      const spent = total >= o.maxProbes || Date.now() > deadline;
      checks.push({ name, ok, ...(detail !== undefined ? { detail } : {}), ...(!ok && spent ? { skipped: true as const } : {}) });
    },
    timeLeftMs: () => deadline - Date.now(),
  };

  const port = Number(base.port || 80);
  const pid = o.rssBytes ? undefined : pidListeningOn(port);
  const readRss = o.rssBytes ?? (() => (pid === undefined ? undefined : rssOf(pid)));
  const before = readRss();
  let peak = before ?? 0;
  const sampler = setInterval(() => {
    const r = readRss();
    if (r !== undefined && r > peak) peak = r;
  }, 250);

  try {
    const found = await discover(base, ctxBase.src(), o.manifest);
    o.progress?.(`attack: ${found.swarms.length} swarm(s) found, segment ${found.segment ?? 'none'}`);
    const ctx: Ctx = { ...ctxBase, found };
    const background = connectionProbes(ctx);
    await httpProbes(ctx);
    o.progress?.(`attack: http done (${total} probes)`);
    const honest = await trackerProbes(ctx);
    o.progress?.(`attack: tracker done (${total} probes, ${honest.length} honest ids seen)`);
    await signalingProbes(ctx, honest);
    o.progress?.(`attack: signaling done (${total} probes)`);
    await mediaProbes(ctx);
    await background;
    // Let the adapter settle, then see that it still answers.
    await sleep(200);
    const alive = await get(new URL('/relaycast/stats', base), { localAddress: ctxBase.src(), timeoutMs: 5000 }).then((a) => a.status === 200, () => false);
    const after = readRss();
    if (after !== undefined && after > peak) peak = after;
    return {
      target: base.origin,
      durationSec: Math.round((Date.now() - t0) / 100) / 10,
      probes: total,
      sent,
      refused,
      adapterErrors: { count: errorCount, samples: errors },
      checks,
      checksFailed: checks.filter((c) => !c.ok && !c.skipped).length,
      checksSkipped: checks.filter((c) => c.skipped).length,
      alive,
      swarmsAttacked: found.swarms.length,
      rss:
        before === undefined || after === undefined
          ? null
          : { ...(pid !== undefined ? { pid } : {}), beforeMB: mb(before), peakMB: mb(peak), afterMB: mb(after), growthMB: mb(Math.max(0, peak - before)) },
    };
  } finally {
    clearInterval(sampler);
  }
}
