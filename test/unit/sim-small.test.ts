import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulate, type SimResult } from '../../sim/run.js';

/**
 * A small swarm where the physics leaves room for P2P: a 1 Mbit/s stream, every
 * viewer with an uplink around 20 Mbit/s (no 1 Mbit/s viewers: with the tracker's
 * join-order seeders, a slow first viewer owns every segment of a small swarm —
 * see sim/README.md, "What the simulator showed").
 */
const SMALL = { viewers: 30, durationSec: 60, warmupSec: 20, bitrateMbps: 1, uplinkMedianMbps: 20, slowShare: 0, seed: 1 } as const;

function physics(r: SimResult): void {
  // Counted over the steady window: a segment the origin sent just before it may reach players
  // inside it, so the window can show up to one segment's origin copy less than the bound.
  const oneSegment = r.holdBackSec / 3 / (r.durationSec - SMALL.warmupSec) / r.viewers;
  assert.ok((r.offload ?? 0) <= r.bound + oneSegment + 1e-9, `offload cannot beat one origin copy per segment (${r.offload} > ${r.bound})`);
  const d = r.diagnostics as { maxUplinkUtilization: number; protocolViolations: Record<string, number> };
  assert.ok(d.maxUplinkUtilization <= 1 + 1e-6, `no viewer uploads faster than its uplink (${d.maxUplinkUtilization})`);
  assert.deepEqual(d.protocolViolations, {});
  assert.ok(r.plays >= 0.9 * r.viewers * ((r.durationSec - 20) / 2), `players kept playing (${r.plays} plays)`);
}

test('30 viewers x 60 s: most segment bytes come from peers, playback is continuous', async () => {
  const t0 = performance.now();
  const r = await simulate(SMALL);
  assert.ok(performance.now() - t0 < 20_000, 'virtual time: a minute of 30 viewers runs in seconds');
  physics(r);
  assert.ok((r.offload ?? 0) > 0.8, `offload ${r.offload}`);
  assert.ok((r.continuity ?? 0) >= 0.99, `continuity ${r.continuity}`);
  assert.ok((r.lagSecP95 ?? Infinity) <= r.holdBackSec + 2.5, `lag p95 ${r.lagSecP95}`);
  assert.ok((r.hopDepth['1'] ?? 0) > 0, 'copies travel viewer to viewer');
});

test('30 viewers x 60 s with 30% not uploading', async () => {
  const r = await simulate({ ...SMALL, noUploadShare: 0.3 });
  physics(r);
  assert.ok((r.offload ?? 0) > 0.8, `offload ${r.offload}`);
  assert.ok((r.continuity ?? 0) >= 0.99, `continuity ${r.continuity}`);
  assert.equal(r.noUploadShare, 0.3);
});

test('a run is a function of its seed', async () => {
  const strip = (r: SimResult): unknown => ({ ...r, wallSec: 0, diagnostics: { ...r.diagnostics, peakHeapMB: 0, peakRssMB: 0 } });
  const opts = { ...SMALL, viewers: 12, durationSec: 30, warmupSec: 10, churnPctPerMin: 20 };
  const [a, b] = [await simulate(opts), await simulate(opts)];
  assert.deepEqual(strip(a), strip(b));
});
