// Worker lifecycle, operator and viewer controls, in real Chromium.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { session } from './support/session.js';
import type { ProbeSample } from './support/page-probe.js';

const delivered = (s: ProbeSample): number => (s.relaycast?.deliveredPeerBytes ?? 0) + (s.relaycast?.deliveredOriginBytes ?? 0);

test('the worker stopped while idle (CDP): the next segments still play and relaycast resumes', { timeout: 120_000 }, async () => {
  const s = await session();
  try {
    const a = await s.open();
    await sleep(2000);
    const b = await s.open();
    await s.until(b, (x) => x.playing && (x.relaycast?.peers ?? 0) > 0 && delivered(x) > 0, 40_000, 'playing with a peer');
    const cdp = await b.context.newCDPSession(b.page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    const before = await s.sample(b);
    // The stopped worker restarts on the next fetch with empty globals; the page's hello and the next
    // playlist teach it again. Playback must not notice.
    const after = await s.until(b, (x) => x.segmentBytes > before.segmentBytes + 200_000 && delivered(x) > delivered(before), 30_000, 'segments after the restart');
    assert.equal(after.stalls, 0);
    assert.ok(after.playing);
    assert.ok(after.controlled);
    assert.equal((await s.sample(a)).stalls, 0);
  } finally {
    await s.close();
  }
});

test('kill switch: off stops P2P within a playlist refresh; unregister removes the worker; playback goes on', { timeout: 120_000 }, async () => {
  const s = await session();
  try {
    const a = await s.open();
    await sleep(2000);
    const b = await s.open();
    await s.until(b, (x) => x.playing && (x.relaycast?.deliveredPeerBytes ?? 0) + (x.relaycast?.uploadedBytes ?? 0) > 0, 40_000, 'P2P flowing');
    s.adapter.setP2P('off');
    await sleep(5000); // more than one playlist refresh (2 s segments)
    // Segments now reach the network from the page itself: the worker no longer answers them.
    const seen: string[] = [];
    await b.page.route('**/*.m4s', (r) => {
      seen.push(r.request().url());
      return r.continue();
    });
    const off0 = await s.sample(b);
    await sleep(8000);
    const off1 = await s.sample(b);
    assert.ok(seen.length >= 2, `segments went to the origin directly (${seen.length})`);
    assert.equal(delivered(off1), delivered(off0), 'relaycast delivered nothing while switched off');
    assert.ok(off1.segmentBytes > off0.segmentBytes, 'the player kept loading segments');
    s.adapter.setP2P('unregister');
    for (const v of [a, b]) {
      let regs = 1;
      for (let i = 0; i < 30 && regs > 0; i++) {
        await sleep(500);
        regs = await v.page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length);
      }
      assert.equal(regs, 0, `viewer ${v.index}: the worker unregistered itself`);
    }
    for (const v of [a, b]) {
      const x = await s.sample(v);
      assert.equal(x.stalls, 0);
      assert.ok(x.playing);
    }
  } finally {
    await s.close();
  }
});

test('a broken or missing client bundle or worker script never breaks playback', { timeout: 120_000 }, async () => {
  const s = await session();
  try {
    const cases: [string, string, { status: number; body: string }][] = [
      ['missing client', '**/relaycast/relaycast.js', { status: 404, body: 'not found' }],
      ['broken client', '**/relaycast/relaycast.js', { status: 200, body: 'this is (( not javascript' }],
      ['broken worker', '**/relaycast/sw.js', { status: 200, body: 'self.addEventListener("fetch", (e) => { e.respondWith(' }],
    ];
    for (const [name, pattern, reply] of cases) {
      const v = await s.open();
      await v.context.route(pattern, (r) => r.fulfill({ status: reply.status, contentType: 'application/javascript', body: reply.body }));
      await v.page.reload({ waitUntil: 'domcontentloaded' });
      const x = await s.until(v, (p) => p.playing && p.currentTime > 6, 40_000, `${name}: playing`);
      assert.equal(x.stalls, 0, `${name}: no stall`);
      assert.ok(x.segmentBytes > 0, `${name}: segments arrived`);
      await v.close();
    }
  } finally {
    await s.close();
  }
});

test('upload consent and cap: setUpload(false) stops uploads; the budget holds within 5%', { timeout: 150_000 }, async () => {
  const s = await session();
  const capBytesPerSec = 30_000;
  try {
    const capped = await s.open();
    await capped.page.evaluate((cap) => window.relaycast?.setUploadLimit(cap), capBytesPerSec);
    await sleep(1500);
    const optOut = await s.open();
    await sleep(1500);
    const other = await s.open();
    for (const v of [capped, optOut, other]) await s.until(v, (x) => x.playing && (x.relaycast?.peers ?? 0) >= 2, 40_000, 'meshed');
    await optOut.page.evaluate(() => window.relaycast?.setUpload(false));
    await sleep(4000);
    const t1 = Date.now();
    const c1 = await s.sample(capped);
    const o1 = await s.sample(optOut);
    await sleep(30_000);
    const c2 = await s.sample(capped);
    const o2 = await s.sample(optOut);
    const seconds = (Date.now() - t1) / 1000;
    const up = (c2.relaycast?.uploadedBytes ?? 0) - (c1.relaycast?.uploadedBytes ?? 0);
    assert.ok(up <= capBytesPerSec * seconds * 1.05, `capped viewer uploaded ${up} B in ${seconds.toFixed(1)} s (cap ${capBytesPerSec} B/s)`);
    assert.equal((o2.relaycast?.uploadedBytes ?? 0) - (o1.relaycast?.uploadedBytes ?? 0), 0, 'the opted-out viewer uploads nothing');
    for (const v of [capped, optOut, other]) assert.equal((await s.sample(v)).stalls, 0);
  } finally {
    await s.close();
  }
});
