// Browser tests: every player x protocol it supports, unchanged, with the same one line; VOD byte
// ranges answered byte-identically to the origin; an ABR ladder whose renditions stay apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAdapter } from '../origin-adapter/index.js';
import { PLAYER_PROTOCOLS, PLAYERS } from '../origin-adapter/player-page.js';
import { DEFAULT_LOAD_OPTIONS, runLoad } from './load/run.js';
import { launchBrowser } from './support/browser.js';
import { openViewer } from './support/viewers.js';

const log = (line: string): void => void process.stderr.write(`  ${line}\n`);

for (const player of PLAYERS) {
  for (const protocol of PLAYER_PROTOCOLS[player]) {
    test(`${player} playing live ${protocol}: 3 viewers, no stall, peers carry a real share, bytes match the origin's`, { timeout: 180_000 }, async () => {
      const r = await runLoad({ ...DEFAULT_LOAD_OPTIONS, viewers: 3, durationSec: 50, p2p: true, progress: log, player, protocol });
      log(JSON.stringify({ player, protocol, offload: r.offload, stalls: r.stalls, peer: r.peerSegmentBytes, checked: r.segmentsChecked, latency: r.latencySecMedian }));
      assert.equal(r.controlled, 3, 'every page is controlled by the worker');
      assert.equal(r.notPlaying, 0, 'every player plays');
      assert.equal(r.stalls, 0, 'no stall');
      assert.equal(r.errors, 0, `no page errors: ${r.errorSamples.join('; ')}`);
      assert.equal(r.corruptedDelivered, 0);
      assert.ok(r.segmentsChecked > 10, 'segments were compared with the origin');
      assert.ok(r.peerSegmentBytes > 0, 'peers delivered bytes to players');
      assert.ok(r.offload !== null && r.offload >= 0.4, `origin served clearly less than 3 copies (offload ${r.offload})`);
    });
  }
}

test('VOD in byte ranges (DASH SegmentList mediaRange): peers answer 206 with the origin\'s bytes and Content-Range', { timeout: 180_000 }, async () => {
  const r = await runLoad({ ...DEFAULT_LOAD_OPTIONS, viewers: 3, durationSec: 40, p2p: true, progress: log, player: 'shaka', protocol: 'dash', vod: true });
  log(JSON.stringify({ offload: r.offload, stalls: r.stalls, peer: r.peerSegmentBytes, checked: r.segmentsChecked }));
  assert.equal(r.notPlaying, 0);
  assert.equal(r.stalls, 0);
  assert.equal(r.corruptedDelivered, 0, 'every range a player received equals the origin\'s bytes for that range');
  assert.ok(r.segmentsChecked > 10);
  assert.ok(r.peerSegmentBytes > 0, 'peers delivered ranges');
});

test('a Range request the worker answers is byte-identical to the origin\'s 206, headers included (HLS EXT-X-BYTERANGE)', { timeout: 120_000 }, async () => {
  const adapter = await startAdapter({ port: 0, log: () => undefined });
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
    await adapter.close();
  }
});

test('an ABR ladder: viewers on different renditions share within their rendition and never mix segments', { timeout: 180_000 }, async () => {
  const adapter = await startAdapter({ port: 0, log: () => undefined, renditions: 2 });
  const browser = await launchBrowser();
  const viewers = [];
  try {
    for (let i = 0; i < 4; i++) {
      const v = await openViewer(browser, `${adapter.playerUrl}?player=hls.js`, i, { p2p: true });
      viewers.push(v);
      // Pin each player to one rendition, two viewers each (hls.js API; the page is the site's).
      await v.page.waitForFunction(() => (window as unknown as { relaycastPlayer?: { player?: { levels?: unknown[] } } }).relaycastPlayer?.player?.levels?.length === 2, undefined, { timeout: 30_000 });
      await v.page.evaluate((level) => {
        (window as unknown as { relaycastPlayer: { player: { currentLevel: number } } }).relaycastPlayer.player.currentLevel = level;
      }, i % 2);
    }
    await sleep(40_000);
    const paths = new Map<number, Set<string>>();
    let corrupted = 0;
    let peerBytes = 0;
    for (const v of viewers) {
      const s = await v.sample();
      assert.ok(s?.playing, `viewer ${v.index} plays`);
      assert.equal(s?.stalls, 0, `viewer ${v.index}: no stall`);
      peerBytes += s?.relaycast?.deliveredPeerBytes ?? 0;
      const reps = new Set<string>();
      for (const h of s?.hashes ?? []) {
        const rep = /chunk-e\d+-(\d+)-/.exec(h.path)?.[1];
        if (rep !== undefined && rep !== '2') reps.add(rep); // 2 = the audio rendition
        const want = await adapter.segmentHashNow(h.path);
        if (want !== undefined && want !== h.sha256) corrupted++;
      }
      paths.set(v.index, reps);
    }
    log(JSON.stringify({ peerBytes, corrupted, reps: [...paths.entries()].map(([k, v]) => [k, [...v]]) }));
    assert.equal(corrupted, 0, 'no player got another rendition\'s or a wrong segment');
    const used = new Set([...paths.values()].flatMap((s) => [...s]));
    assert.ok(used.has('0') && used.has('1'), 'both renditions were played');
    assert.ok(peerBytes > 0, 'peers shared within renditions');
    const swarms = Object.keys(adapter.stats().swarms);
    assert.ok(swarms.filter((s) => /media_[01]\.m3u8/.test(s)).length === 2, `one swarm per video rendition: ${swarms.join(' ')}`);
  } finally {
    await Promise.all(viewers.map((v) => v.close()));
    await browser.close();
    await adapter.close();
  }
});
