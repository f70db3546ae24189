// Worker lifecycle, operator and viewer controls, in real Chromium. The tests share one warm
// adapter; each P2P viewer has a control viewer without relaycast opened with it, whose stalls
// tell what the machine did to playback (e2e/support/control.ts).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Adapter } from '../origin-adapter/index.js';
import { assertStallsWithinControl } from './support/control.js';
import { startWarmAdapter } from './support/live-stream.js';
import { session, type Session } from './support/session.js';
import type { ProbeSample } from './support/page-probe.js';
import type { Viewer } from './support/viewers.js';

const delivered = (s: ProbeSample): number => (s.relaycast?.deliveredPeerBytes ?? 0) + (s.relaycast?.deliveredOriginBytes ?? 0);

let warm: Promise<Adapter> | undefined;
const origin = (): Promise<Adapter> => (warm ??= startWarmAdapter());
after(async () => {
  if (warm) await (await warm.catch(() => undefined))?.close();
});

/** A P2P viewer and, opened right after it, a control viewer without relaycast. */
async function openPair(s: Session): Promise<[Viewer, Viewer]> {
  const v = await s.open();
  const c = await s.open({ p2p: false });
  return [v, c];
}

const samples = (s: Session, vs: readonly Viewer[]): Promise<ProbeSample[]> => Promise.all(vs.map((v) => s.sample(v)));

test('the worker stopped while idle (CDP): the next segments still play and relaycast resumes', { timeout: 120_000 }, async () => {
  const s = await session({ origin: await origin() });
  try {
    const [a, ca] = await openPair(s);
    await sleep(2000);
    const [b, cb] = await openPair(s);
    await s.until(b, (x) => x.playing && (x.relaycast?.peers ?? 0) > 0 && delivered(x) > 0, 40_000, 'playing with a peer');
    const cdp = await b.context.newCDPSession(b.page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    const before = await s.sample(b);
    // The stopped worker restarts on the next fetch with empty globals; the page's hello and the next
    // playlist teach it again. Playback must not notice.
    const after = await s.until(b, (x) => x.segmentBytes > before.segmentBytes + 200_000 && delivered(x) > delivered(before), 30_000, 'segments after the restart');
    assert.ok(after.playing);
    assert.ok(after.controlled);
    assertStallsWithinControl(await samples(s, [a, b]), await samples(s, [ca, cb]), 'worker restart');
  } finally {
    await s.close();
  }
});

test('kill switch: off stops P2P within a playlist refresh; unregister removes the worker; playback goes on', { timeout: 120_000 }, async () => {
  const adapter = await origin();
  const s = await session({ origin: adapter });
  try {
    const [a, ca] = await openPair(s);
    await sleep(2000);
    const [b, cb] = await openPair(s);
    await s.until(b, (x) => x.playing && (x.relaycast?.deliveredPeerBytes ?? 0) + (x.relaycast?.uploadedBytes ?? 0) > 0, 40_000, 'P2P flowing');
    adapter.setP2P('off');
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
    adapter.setP2P('unregister');
    for (const v of [a, b]) {
      let regs = 1;
      for (let i = 0; i < 30 && regs > 0; i++) {
        await sleep(500);
        regs = await v.page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length);
      }
      assert.equal(regs, 0, `viewer ${v.index}: the worker unregistered itself`);
    }
    const end = await samples(s, [a, b]);
    for (const x of end) assert.ok(x.playing);
    assertStallsWithinControl(end, await samples(s, [ca, cb]), 'kill switch');
  } finally {
    adapter.setP2P('on');
    await s.close();
  }
});

test('a broken or missing client bundle or worker script never breaks playback', { timeout: 120_000 }, async () => {
  const s = await session({ origin: await origin() });
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
      const c = await s.open({ p2p: false });
      // Six seconds played: a live player starts tens of seconds into the stream, so count from its first sample.
      const played = async (w: Viewer, what: string): Promise<ProbeSample> => {
        const first = await s.until(w, (p) => p.playing, 40_000, `${what}: playing`);
        return s.until(w, (p) => p.playing && p.currentTime > first.currentTime + 6, 40_000, `${what}: 6 s played`);
      };
      const [x, y] = await Promise.all([played(v, name), played(c, `${name} (control)`)]);
      assertStallsWithinControl([x], [y], name);
      assert.ok(x.segmentBytes > 0, `${name}: segments arrived`);
      await v.close();
      await c.close();
    }
  } finally {
    await s.close();
  }
});

test('upload consent and cap: setUpload(false) stops uploads; the budget holds within 5%', { timeout: 150_000 }, async () => {
  const s = await session({ origin: await origin() });
  const capBytesPerSec = 30_000;
  try {
    const [capped, c1] = await openPair(s);
    await capped.page.evaluate((cap) => window.relaycast?.setUploadLimit(cap), capBytesPerSec);
    await sleep(1500);
    const [optOut, c2] = await openPair(s);
    await sleep(1500);
    const [other, c3] = await openPair(s);
    for (const v of [capped, optOut, other]) await s.until(v, (x) => x.playing && (x.relaycast?.peers ?? 0) >= 2, 40_000, 'meshed');
    await optOut.page.evaluate(() => window.relaycast?.setUpload(false));
    await sleep(4000);
    const t1 = Date.now();
    const cap1 = await s.sample(capped);
    const out1 = await s.sample(optOut);
    await sleep(30_000);
    const cap2 = await s.sample(capped);
    const out2 = await s.sample(optOut);
    const seconds = (Date.now() - t1) / 1000;
    const up = (cap2.relaycast?.uploadedBytes ?? 0) - (cap1.relaycast?.uploadedBytes ?? 0);
    assert.ok(up <= capBytesPerSec * seconds * 1.05, `capped viewer uploaded ${up} B in ${seconds.toFixed(1)} s (cap ${capBytesPerSec} B/s)`);
    assert.equal((out2.relaycast?.uploadedBytes ?? 0) - (out1.relaycast?.uploadedBytes ?? 0), 0, 'the opted-out viewer uploads nothing');
    assertStallsWithinControl(await samples(s, [capped, optOut, other]), await samples(s, [c1, c2, c3]), 'upload controls');
  } finally {
    await s.close();
  }
});
