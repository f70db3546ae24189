// Browser tests: real Chromium viewers, real service workers, real PeerJS data channels. A live
// swarm of three sharing segments is in players.test.ts (one viewer of each player per protocol).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAdapter } from '../origin-adapter/index.js';
import { DEFAULT_LOAD_OPTIONS, runLoad } from './load/run.js';
import { launchBrowser } from './support/browser.js';
import { assertNoWorseThanControl } from './support/control.js';
import { openViewer } from './support/viewers.js';

const log = (line: string): void => void process.stderr.write(`  ${line}\n`);

test('signaling and tracker unreachable: every viewer still plays from the origin', { timeout: 120_000 }, async () => {
  const r = await runLoad({ ...DEFAULT_LOAD_OPTIONS, viewers: 2, durationSec: 30, p2p: true, progress: log, adapter: { signaling: false }, baseline: true, baselineMode: 'concurrent' });
  log(JSON.stringify({ offload: r.offload, stalls: r.stalls, controlStalls: r.baseline?.stalls, latency: r.latencySecMedian, controlLatency: r.baseline?.latencySecMedian }));
  assert.equal(r.controlled, 2);
  assert.equal(r.notPlaying, 0);
  assertNoWorseThanControl(r);
  assert.equal(r.peerSegmentBytes, 0);
  assert.ok(r.window.segmentBytesToPlayers > 0);
  assert.ok(r.offload !== null && Math.abs(r.offload) < 0.1, `all from the origin (offload ${r.offload})`);
});

test('the worker answers only segments it learned; other requests go to the network untouched', { timeout: 90_000 }, async () => {
  const adapter = await startAdapter({ port: 0, log: () => undefined });
  const browser = await launchBrowser();
  try {
    const v = await openViewer(browser, adapter.playerUrl, 0, { p2p: true });
    // Wait until the page is controlled and the player has fetched segments through the worker.
    for (let i = 0; i < 60; i++) {
      const s = await v.sample();
      if (s?.controlled && s.playing && (s.relaycast?.deliveredOriginBytes ?? 0) > 0) break;
      await sleep(500);
    }
    // page.route sees only requests the worker did not answer (Playwright: a worker's respondWith hides them).
    const seenByNetwork: string[] = [];
    await v.page.route('**/*', (route) => {
      seenByNetwork.push(new URL(route.request().url()).pathname);
      return route.continue();
    });
    const segUrl = await v.page.evaluate(() => {
      const e = performance.getEntriesByType('resource').map((x) => x.name).filter((n) => /chunk-[^/]*\.m4s$/.test(n));
      return e[e.length - 1] ?? '';
    });
    assert.ok(segUrl, 'the player fetched a segment');
    const statuses = await v.page.evaluate(async (seg) => {
      const a = await fetch('/relaycast/stats');
      const b = await fetch(seg);
      return [a.status, b.status];
    }, segUrl);
    assert.equal(statuses[0], 200);
    assert.ok(seenByNetwork.includes('/relaycast/stats'), 'a non-segment request is not answered by the worker');
    assert.ok(!seenByNetwork.includes(new URL(segUrl).pathname), 'a known segment is answered by the worker (control)');
    await v.close();
  } finally {
    await browser.close();
    await adapter.close();
  }
});
