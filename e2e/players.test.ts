// Browser tests: every player on every protocol it plays, unchanged, with the same one line; VOD
// byte ranges answered byte-identically to the origin; an ABR ladder whose renditions stay apart.
// The runs share two warm adapters (P2P and its control) and compare each P2P run with the same
// viewers without relaycast, played at the same time (e2e/support/control.ts).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAdapter } from '../origin-adapter/index.js';
import { PLAYER_PROTOCOLS, PLAYERS, type StreamProtocol } from '../origin-adapter/player-page.js';
import { DEFAULT_LOAD_OPTIONS, runLoad } from './load/run.js';
import type { LoadResult } from './load/metrics.js';
import { launchBrowser } from './support/browser.js';
import { assertNoWorseThanControl, assertStallsWithinControl, stallsSince } from './support/control.js';
import { sharedOrigins } from './support/live-stream.js';
import type { ProbeSample } from './support/page-probe.js';
import { openViewer } from './support/viewers.js';

const log = (line: string): void => void process.stderr.write(`  ${line}\n`);
const origins = sharedOrigins();
after(() => origins.close());

function summary(r: LoadResult): string {
  const viewers = (x: LoadResult) => x.perViewer.map((v) => ({ player: v.player, stalls: v.stallLog, latency: v.latencySecMedian, clock: v.mediaClockRate, fromPeers: v.deliveredPeerBytes, uploaded: v.uploadedBytes, checked: v.segmentsChecked }));
  return JSON.stringify({ offload: r.offload, stalls: r.stalls, latency: r.latencySecMedian, clock: r.mediaClockRate, cpu: r.cpuBusy, viewers: viewers(r), control: r.baseline && { stalls: r.baseline.stalls, latency: r.baseline.latencySecMedian, clock: r.baseline.mediaClockRate, viewers: viewers(r.baseline) } });
}

// One swarm per protocol with one viewer of each player that plays it: each player is served by the
// others' pages and serves them, through the same worker and the same one line.
for (const protocol of ['hls', 'dash'] as const satisfies readonly StreamProtocol[]) {
  const players = PLAYERS.filter((p) => PLAYER_PROTOCOLS[p].includes(protocol));
  test(`live ${protocol}, ${players.join(' + ')} in one swarm: each controlled and playing, no stall or latency beyond a same-run control without P2P, peers carry a real share, bytes match the origin's`, { timeout: 180_000 }, async () => {
    const { p2p, control } = await origins.get();
    const r = await runLoad({ ...DEFAULT_LOAD_OPTIONS, viewers: players.length, durationSec: 50, p2p: true, players, protocol, origin: p2p, baseline: true, baselineMode: 'concurrent', baselineOrigin: control, progress: log });
    log(summary(r));
    assert.equal(r.notPlaying, 0, 'every player plays');
    assertNoWorseThanControl(r);
    assert.equal(r.errors, 0, `no page errors: ${r.errorSamples.join('; ')}`);
    assert.equal(r.corruptedDelivered, 0);
    assert.deepEqual(r.perViewer.map((v) => v.player), players);
    for (const v of r.perViewer) {
      assert.ok(v.controlled, `${v.player}: the page is controlled by the worker`);
      assert.ok(v.segmentsChecked > 10, `${v.player}: its segments were compared with the origin's (${v.segmentsChecked})`);
      assert.ok(v.deliveredPeerBytes > 0, `${v.player}: peers delivered bytes to its player`);
      assert.ok(v.uploadedBytes > 0, `${v.player}: its page relayed segments to the others`);
    }
    assert.ok(r.window.originSegmentBytes !== null && r.window.segmentBytesToPlayers > 0);
    // Three viewers without P2P cost three copies; "clearly less" = at most 60% of what players received.
    assert.ok(r.offload !== null && r.offload >= 0.4, `origin served clearly less than 3 copies (offload ${r.offload})`);
  });
}

test('VOD in byte ranges (DASH SegmentList mediaRange): peers answer 206 with the origin\'s bytes and Content-Range', { timeout: 180_000 }, async () => {
  const { p2p, control } = await origins.get();
  const r = await runLoad({ ...DEFAULT_LOAD_OPTIONS, viewers: 3, durationSec: 40, p2p: true, progress: log, player: 'shaka', protocol: 'dash', vod: true, origin: p2p, baseline: true, baselineMode: 'concurrent', baselineOrigin: control });
  log(summary(r));
  assert.equal(r.notPlaying, 0);
  assertNoWorseThanControl(r);
  assert.equal(r.corruptedDelivered, 0, 'every range a player received equals the origin\'s bytes for that range');
  assert.ok(r.segmentsChecked > 10);
  assert.ok(r.peerSegmentBytes > 0, 'peers delivered ranges');
});

test('a Range request the worker answers is byte-identical to the origin\'s 206, headers included (HLS EXT-X-BYTERANGE)', { timeout: 120_000 }, async () => {
  const adapter = (await origins.get()).p2p;
  const browser = await launchBrowser();
  try {
    const v = await openViewer(browser, `${adapter.playerUrl}?player=hls.js&protocol=hls&vod=1`, 0, { p2p: true });
    for (let i = 0; i < 60; i++) {
      const s = await v.sample();
      if (s?.controlled && s.playing && s.currentTime > 6) break;
      await sleep(500);
    }
    const playlist = await (await fetch(`${adapter.url}/vod/demo/media_0.m3u8`)).text();
    const ranges = [...playlist.matchAll(/#EXT-X-BYTERANGE:(\d+)@(\d+)/g)].slice(0, 3).map((m) => `bytes=${m[2]}-${Number(m[2]) + Number(m[1]) - 1}`);
    assert.equal(ranges.length, 3);
    // page.route sees only requests the worker did not answer (Playwright: a worker's respondWith hides them).
    const seenByNetwork: string[] = [];
    await v.page.route('**/vod-0.mp4', (route) => {
      seenByNetwork.push(route.request().headers()['range'] ?? '');
      return route.continue();
    });
    for (const range of ranges) {
      const origin = await fetch(`${adapter.url}/vod/demo/vod-0.mp4`, { headers: { Range: range } });
      const originBytes = Buffer.from(await origin.arrayBuffer());
      // From the page: the worker answers from relaycast's store (the player played these ranges).
      const page = await v.page.evaluate(async (r) => {
        const resp = await fetch('/vod/demo/vod-0.mp4', { headers: { Range: r } });
        const b = new Uint8Array(await resp.arrayBuffer());
        return { status: resp.status, contentRange: resp.headers.get('content-range'), length: resp.headers.get('content-length'), bytes: Array.from(b) };
      }, range);
      assert.equal(page.status, 206, range);
      assert.equal(page.contentRange, origin.headers.get('content-range'), range);
      assert.equal(page.length, origin.headers.get('content-length'), range);
      assert.ok(Buffer.from(page.bytes).equals(originBytes), `bytes of ${range}`);
    }
    for (const range of ranges) assert.ok(!seenByNetwork.includes(range), `${range} was answered by the worker, not the network`);
    await v.close();
  } finally {
    await browser.close();
  }
});

test('an ABR ladder: viewers on different renditions share within their rendition and never mix segments', { timeout: 180_000 }, async () => {
  const adapter = await startAdapter({ port: 0, log: () => undefined, renditions: 2 });
  const browser = await launchBrowser();
  const viewers = [];
  const controls = [];
  try {
    // Pin each player to one rendition, two viewers each (hls.js API; the page is the site's); a
    // control viewer without relaycast is pinned alongside each one.
    const pinned = async (i: number, p2p: boolean) => {
      const v = await openViewer(browser, `${adapter.playerUrl}?player=hls.js`, i, { p2p });
      await v.page.waitForFunction(() => (window as unknown as { relaycastPlayer?: { player?: { levels?: unknown[] } } }).relaycastPlayer?.player?.levels?.length === 2, undefined, { timeout: 30_000 });
      await v.page.evaluate((level) => {
        (window as unknown as { relaycastPlayer: { player: { currentLevel: number } } }).relaycastPlayer.player.currentLevel = level;
      }, i % 2);
      return v;
    };
    for (let i = 0; i < 4; i++) {
      viewers.push(await pinned(i, true));
      controls.push(await pinned(i, false));
    }
    // Stalls are compared after a warm-up: the last viewers' startup, which pins a rendition the
    // player may have begun on another, is not what this test is about.
    await sleep(15_000);
    const warm = await Promise.all([...viewers, ...controls].map((v) => v.sample()));
    await sleep(25_000);
    const paths = new Map<number, Set<string>>();
    let corrupted = 0;
    let peerBytes = 0;
    const samples: ProbeSample[] = [];
    for (const v of viewers) {
      const s = await v.sample();
      assert.ok(s?.playing, `viewer ${v.index} plays`);
      samples.push(s);
      peerBytes += s.relaycast?.deliveredPeerBytes ?? 0;
      const reps = new Set<string>();
      for (const h of s.hashes) {
        const rep = /chunk-e\d+-(\d+)-/.exec(h.path)?.[1];
        if (rep !== undefined && rep !== '2') reps.add(rep); // 2 = the audio rendition
        const want = await adapter.segmentHashNow(h.path);
        if (want !== undefined && want !== h.sha256) corrupted++;
      }
      paths.set(v.index, reps);
    }
    const controlSamples = (await Promise.all(controls.map((c) => c.sample()))).filter((s): s is ProbeSample => s !== null);
    const since = (s: ProbeSample, i: number): ProbeSample => {
      const w = warm[i];
      return w ? stallsSince(s, w) : s;
    };
    log(JSON.stringify({ peerBytes, corrupted, reps: [...paths.entries()].map(([k, v]) => [k, [...v]]), stalls: samples.map((s) => s.stallLog), controlStalls: controlSamples.map((s) => s.stallLog) }));
    assertStallsWithinControl(
      samples.map((s, i) => since(s, i)),
      controlSamples.map((s, i) => since(s, viewers.length + i)),
      'pinned renditions, after a warm-up',
    );
    assert.equal(corrupted, 0, 'no player got another rendition\'s or a wrong segment');
    const used = new Set([...paths.values()].flatMap((s) => [...s]));
    assert.ok(used.has('0') && used.has('1'), 'both renditions were played');
    assert.ok(peerBytes > 0, 'peers shared within renditions');
    const swarms = Object.keys(adapter.stats().swarms);
    assert.ok(swarms.filter((s) => /media_[01]\.m3u8/.test(s)).length === 2, `one swarm per video rendition: ${swarms.join(' ')}`);
  } finally {
    await Promise.all([...viewers, ...controls].map((v) => v.close()));
    await browser.close();
    await adapter.close();
  }
});
