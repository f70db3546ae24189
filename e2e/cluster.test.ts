// Two adapter nodes sharing a Redis, real Chromium viewers split across them: links form across
// the nodes, and when the signaling-only node is killed (SIGKILL, mid-run) its viewers are back on
// the other node within seconds, keep their peers, and from the kill on play no worse than control
// viewers without relaycast played at the same time (their startup is the other tests' subject). Sized for 2 cores: 4 P2P viewers and 4 controls; the larger
// scenario (6 viewers, offload) is a load-tool run (docs/adapter.md, "Several nodes").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Adapter } from '../origin-adapter/index.js';
import { startAdapterProcess, type AdapterProcess } from '../test/support/adapter-process.js';
import { startRedis, type RedisServer } from '../test/support/redis-server.js';
import { launchBrowser } from './support/browser.js';
import { assertStallsWithinControl } from './support/control.js';
import { startWarmAdapter } from './support/live-stream.js';
import type { ProbeSample } from './support/page-probe.js';
import { openViewer, type Viewer } from './support/viewers.js';

const log = (line: string): void => void process.stderr.write(`  ${line}\n`);
/** The bound: a killed node's viewers are on another node's signaling within this. */
const BACK_WITHIN_MS = 10_000;

async function sample(v: Viewer): Promise<ProbeSample> {
  const s = await v.sample();
  if (!s) throw new Error(`viewer ${v.index}: no probe sample`);
  return s;
}

async function until(vs: readonly Viewer[], pred: (s: ProbeSample) => boolean, timeoutMs: number, what: string): Promise<ProbeSample[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ss = await Promise.all(vs.map(sample));
    if (ss.every(pred)) return ss;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(ss.map((s) => ({ playing: s.playing, relaycast: s.relaycast })))}`);
    await sleep(500);
  }
}

test('two nodes on Redis: links form across them; a killed node\'s viewers are back on the other within 10 s and play no worse than a control', { timeout: 300_000 }, async () => {
  let redis: RedisServer | undefined;
  let origin: Adapter | undefined;
  let control: Adapter | undefined;
  let second: AdapterProcess | undefined;
  const browsers: { close(): Promise<void> }[] = [];
  try {
    redis = await startRedis();
    // Node A: the origin with the embedded stream, signaling and tracker. Node B: signaling and tracker only, a process of its own.
    [origin, control, second] = await Promise.all([startWarmAdapter({ redis: redis.url }), startWarmAdapter(), startAdapterProcess(['--no-source', '--vod-sec', '0', '--redis', redis.url])]);
    const nodeUrls = [origin.url, second.url];
    const p2pBrowser = await launchBrowser();
    const controlBrowser = await launchBrowser();
    browsers.push(p2pBrowser, controlBrowser);
    const p2p: Viewer[] = [];
    const controls: Viewer[] = [];
    for (let i = 0; i < 4; i++) {
      // Viewers 0 and 2 start on node A, 1 and 3 on node B; each has the other node as its fallback.
      const order = i % 2 === 0 ? nodeUrls : [...nodeUrls].reverse();
      const options = { signalUrl: order.map((u) => `${u}/relaycast/signal`), trackerUrl: order.map((u) => `${u}/relaycast/tracker`) };
      p2p.push(await openViewer(p2pBrowser, origin.playerUrl, i, { p2p: true, options }));
      controls.push(await openViewer(controlBrowser, control.playerUrl, i, { p2p: false }));
      await sleep(1500);
    }
    // In a mesh of four split two and two, two links or more each means a link across the nodes.
    // Links are counted per swarm (video and audio): more links than swarms means two peers or more
    // in a swarm, and in a mesh of four split two and two, one of them is on the other node.
    const meshed = (s: ProbeSample): boolean => s.playing && (s.relaycast?.peers ?? 0) > (s.relaycast?.swarms ?? 0) && (s.relaycast?.deliveredPeerBytes ?? 0) > 0;
    await until(p2p, meshed, 150_000, 'every P2P viewer linked to two peers or more and served by peers');
    const across = origin.signalingStats();
    log(`meshed: node A holds ${across?.clients} sessions, forwarded ${across?.forwarded} messages to node B; cluster ${JSON.stringify(origin.clusterStats())}`);
    assert.equal(across?.clients, 2, 'two viewers signal through node A, two through node B');
    assert.ok((across?.forwarded ?? 0) > 0, 'signaling crossed from node A to node B');
    // A timeline for the failure message: what each viewer and the origin did around the kill.
    const timeline: string[] = [];
    let watching = true;
    let killedAtMs: number | undefined;
    const watch = (async () => {
      while (watching) {
        const t0 = Date.now();
        const ok = await fetch(`${origin?.url}/live/demo/media_0.m3u8`, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok, () => false);
        const ss = await Promise.all(p2p.map((v) => v.sample()));
        timeline.push(JSON.stringify({ t: killedAtMs === undefined ? 'before' : Math.round((Date.now() - killedAtMs) / 100) / 10, playlistMs: Date.now() - t0, ok, v: ss.map((x) => x && [Math.round(x.pageSec), x.stalls, x.relaycast?.peers, x.relaycast?.deliveredPeerBytes, x.relaycast?.deliveredOriginBytes, x.relaycast?.lastError]) }));
        await sleep(1000);
      }
    })();
    await sleep(5000);
    const before = await Promise.all(p2p.map(sample));
    const controlsBefore = await Promise.all(controls.map(sample));
    const killedAt = Date.now();
    killedAtMs = killedAt;
    log(`killing node B at page times ${before.map((s) => s.pageSec.toFixed(1)).join(', ')} s`);
    await second.kill();
    log('node B killed');
    // Node B's viewers reconnect to node A (their second URL) with their ids.
    for (;;) {
      if (origin.signalingStats()?.clients === 4) break;
      assert.ok(Date.now() - killedAt < BACK_WITHIN_MS, `node B's viewers back on node A within ${BACK_WITHIN_MS} ms (node A holds ${origin.signalingStats()?.clients})`);
      await sleep(200);
    }
    log(`node B's viewers back on node A after ${Date.now() - killedAt} ms`);
    const after = await until(
      p2p,
      (s) => {
        const b = before.find((x) => x.relaycast?.peerId === s.relaycast?.peerId);
        return b !== undefined && (s.relaycast?.deliveredPeerBytes ?? 0) > (b.relaycast?.deliveredPeerBytes ?? 0) && meshed(s);
      },
      30_000,
      'every viewer, with the id it had, served by peers again after the kill',
    );
    await sleep(10_000);
    const end = await Promise.all(p2p.map(sample));
    log(JSON.stringify(end.map((s) => ({ stalls: s.stallLog, peers: s.relaycast?.peers, fromPeers: s.relaycast?.deliveredPeerBytes, fromOrigin: s.relaycast?.deliveredOriginBytes }))));
    watching = false;
    await watch;
    log(`timeline (s from the kill; per viewer: page s, stalls, peers, from peers, from origin, last error):\n${timeline.join('\n')}`);
    assert.equal(after.length, 4);
    for (const s of end) assert.ok(s.playing, 'every P2P viewer plays');
    // From the kill on: what the kill did to playback, against what the machine did to the controls meanwhile.
    const since = (now: readonly ProbeSample[], then: readonly ProbeSample[]): ProbeSample[] =>
      now.map((s, i) => {
        const t = then[i];
        return t === undefined ? s : { ...s, stalls: s.stalls - t.stalls, stalledSec: s.stalledSec - t.stalledSec, stallLog: s.stallLog.filter((x) => x.atSec >= t.pageSec) };
      });
    assertStallsWithinControl(since(end, before), since(await Promise.all(controls.map(sample)), controlsBefore), 'from the kill of a node on');
  } finally {
    await Promise.all(browsers.map((b) => b.close().catch(() => undefined)));
    await second?.kill();
    await Promise.all([origin?.close(), control?.close()]);
    await redis?.stop();
  }
});
