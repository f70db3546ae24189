// npm run bench:memory -- [--minutes 10] [--json FILE]
// A viewer's memory (JS heap + ArrayBuffer backing stores) over a long live session, with P2P (two meshed viewers) and without
// (a third viewer with no worker and no relaycast script) in the same run. Prints JSON.
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { CDPSession } from 'playwright-core';
import { session } from '../support/session.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, json: { type: 'string' } } });
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0) {
  console.error('--minutes must be a positive number');
  process.exit(2);
}

/**
 * JS heap in use plus ArrayBuffer backing stores (where segment bytes live: they are outside
 * the JS heap, so JSHeapUsedSize alone would not see the segment store), after a GC.
 */
async function heapMB(cdp: CDPSession): Promise<number> {
  // Collect garbage first so the number is what is retained, not what is waiting for GC.
  await cdp.send('HeapProfiler.collectGarbage');
  const u = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; backingStorageSize?: number };
  return (u.usedSize + (u.backingStorageSize ?? 0)) / 1e6;
}

/** Least-squares slope of y over x (MB per minute). */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const s = await session();
try {
  const measured = await s.open();
  await sleep(1500);
  const peer = await s.open();
  const base = await s.open({ p2p: false });
  const cdps = await Promise.all([measured, base].map(async (v) => {
    return v.context.newCDPSession(v.page);
  }));
  const t0 = Date.now();
  const samples: { min: number; p2pMB: number; noP2pMB: number }[] = [];
  while ((Date.now() - t0) / 60_000 < minutes) {
    await sleep(30_000);
    const [p2pMB = 0, noP2pMB = 0] = await Promise.all(cdps.map(heapMB));
    const min = (Date.now() - t0) / 60_000;
    samples.push({ min: Math.round(min * 100) / 100, p2pMB: Math.round(p2pMB * 100) / 100, noP2pMB: Math.round(noP2pMB * 100) / 100 });
    process.stderr.write(`[memory] ${min.toFixed(1)} min: P2P ${p2pMB.toFixed(2)} MB, no P2P ${noP2pMB.toFixed(2)} MB\n`);
  }
  // The first minute is warm-up (player and mesh start); the trend is measured after it.
  const steady = samples.filter((x) => x.min >= 1);
  const last = await s.sample(measured);
  const result = {
    minutes,
    samples,
    p2p: {
      heapMBFirst: steady[0]?.p2pMB ?? null,
      heapMBLast: steady[steady.length - 1]?.p2pMB ?? null,
      slopeMBPerMin: Math.round(slope(steady.map((x) => x.min), steady.map((x) => x.p2pMB)) * 1000) / 1000,
      peerBytes: last.relaycast?.peerBytes ?? 0,
      uploadedBytes: last.relaycast?.uploadedBytes ?? 0,
      stalls: last.stalls,
    },
    noP2p: {
      heapMBFirst: steady[0]?.noP2pMB ?? null,
      heapMBLast: steady[steady.length - 1]?.noP2pMB ?? null,
      slopeMBPerMin: Math.round(slope(steady.map((x) => x.min), steady.map((x) => x.noP2pMB)) * 1000) / 1000,
    },
    peerStalls: (await s.sample(peer)).stalls,
  };
  const json = JSON.stringify(result, null, 2);
  if (values.json) writeFileSync(values.json, `${json}\n`);
  console.log(json);
} finally {
  await s.close();
}
