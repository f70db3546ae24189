// Browser tests: real Chromium viewers, real service workers, real PeerJS data channels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAdapter } from '../origin-adapter/index.js';
import { DEFAULT_LOAD_OPTIONS, runLoad } from './load/run.js';
import { launchBrowser } from './support/browser.js';
import { openViewer } from './support/viewers.js';

const log = (line: string): void => void process.stderr.write(`  ${line}\n`);

test('3 viewers of the live stream: controlled, no stall, peers carry a real share', { timeout: 180_000 }, async () => {
  const r = await runLoad({ ...DEFAULT_LOAD_OPTIONS, viewers: 3, durationSec: 60, p2p: true, progress: log });
  log(JSON.stringify({ offload: r.offload, window: r.window, stalls: r.stalls, peerSegmentBytes: r.peerSegmentBytes }));
  assert.equal(r.controlled, 3, 'every page is controlled by the worker');
  assert.equal(r.notPlaying, 0, 'every player plays');
  assert.equal(r.stalls, 0, 'no stall');
  assert.equal(r.errors, 0, `no page errors: ${r.errorSamples.join('; ')}`);
  assert.ok(r.peerSegmentBytes > 0, 'peers delivered bytes to players');
  assert.ok(r.window.originSegmentBytes !== null && r.window.segmentBytesToPlayers > 0);
  // Three viewers without P2P cost three copies; "clearly less" = at most 60% of what players received.
  assert.ok(r.offload !== null && r.offload >= 0.4, `origin served clearly less than 3 copies (offload ${r.offload})`);
});

test('signaling and tracker unreachable: every viewer still plays from the origin', { timeout: 120_000 }, async () => {
  const r = await runLoad({ ...DEFAULT_LOAD_OPTIONS, viewers: 2, durationSec: 30, p2p: true, progress: log, adapter: { signaling: false } });
  assert.equal(r.controlled, 2);
  assert.equal(r.notPlaying, 0);
  assert.equal(r.stalls, 0);
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
