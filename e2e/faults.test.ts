// Fault tests: hostile peers, churn, signaling outage, slow peers. Each is a short run of the
// load tool (sized for 2 cores: 3-4 viewers, about a minute) with assertions on its numbers, beside
// a control of the same viewers without P2P played at the same time (e2e/support/control.ts). The
// runs share two warm adapters.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DEFAULT_LOAD_OPTIONS, runLoad, type LoadOptions } from './load/run.js';
import type { LoadResult } from './load/metrics.js';
import { assertNoWorseThanControl } from './support/control.js';
import { sharedOrigins } from './support/live-stream.js';

const log = (line: string): void => void process.stderr.write(`  ${line}\n`);
const origins = sharedOrigins();
after(() => origins.close());

async function run(o: Partial<LoadOptions> & Pick<LoadOptions, 'viewers' | 'durationSec'>): Promise<LoadResult> {
  const { p2p, control } = await origins.get();
  return runLoad({ ...DEFAULT_LOAD_OPTIONS, p2p: true, progress: log, origin: p2p, baseline: true, baselineMode: 'concurrent', baselineOrigin: control, ...o });
}

function summary(r: LoadResult): string {
  const { perViewer: _p, timeline: _t, baseline: b, ...rest } = r;
  const lat = (x: LoadResult): (number | null)[] => x.perViewer.map((v) => v.latencySecMedian);
  return JSON.stringify({ ...rest, latencyPerViewer: lat(r), control: b && { stalls: b.stalls, stalledSec: b.stalledSec, latencySecMedian: b.latencySecMedian, latencyPerViewer: lat(b), mediaClockRate: b.mediaClockRate, notPlaying: b.notPlaying } });
}

function assertViewersFine(r: LoadResult): void {
  assert.equal(r.notPlaying, 0, `every viewer plays: ${summary(r)}`);
  assertNoWorseThanControl(r);
  assert.equal(r.errors, 0, `no page errors: ${r.errorSamples.join('; ')}`);
}

test('a malicious viewer never gets corrupted bytes to a player, and is caught', { timeout: 180_000 }, async () => {
  const r = await run({ viewers: 4, durationSec: 45, malicious: 1 });
  log(summary(r));
  assertViewersFine(r);
  assert.ok(r.segmentsChecked > 50, 'the players’ segments were compared with the origin’s bytes');
  assert.equal(r.corruptedDelivered, 0, 'no corrupted segment reached a player');
  assert.ok(r.rejectedSegments + r.bannedPeers > 0, 'the malicious peer did send bad bytes and was banned');
  assert.ok(r.peerSegmentBytes > 0, 'honest peers still served each other');
});

test('churn: viewers leave and join every 20 s without stalls', { timeout: 180_000 }, async () => {
  const r = await run({ viewers: 4, durationSec: 65, churnPct: 50 });
  log(summary(r));
  assertViewersFine(r);
  assert.ok(r.viewersTotal >= 8, `viewers were replaced (${r.viewersTotal} in all)`);
  assert.ok(r.peerSegmentBytes > 0);
});

test('signaling and tracker outage: playback goes on, P2P continues after', { timeout: 180_000 }, async () => {
  const r = await run({ viewers: 3, durationSec: 75, signalOutageSec: 20 });
  log(summary(r));
  assertViewersFine(r);
  const up = r.events.find((e) => e.what === 'signal-up');
  assert.ok(r.events.some((e) => e.what === 'signal-down') && up, 'the outage happened');
  const at = r.timeline.find((t) => t.tSec >= up.tSec + 5);
  const end = r.timeline[r.timeline.length - 1];
  assert.ok(at && end && end.peerSegmentBytes > at.peerSegmentBytes, 'peers delivered bytes after signaling came back');
});

test('slow peers: the others route around them, no stall', { timeout: 180_000 }, async () => {
  const r = await run({ viewers: 4, durationSec: 45, slowPeers: 1 });
  log(summary(r));
  assertViewersFine(r);
  assert.ok(r.peerSegmentBytes > 0);
});
