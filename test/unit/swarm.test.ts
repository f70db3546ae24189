import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PEER_PROTOCOL_VERSION } from '../../protocol/peer.js';
import { encodeFrame } from '../../protocol/framing.js';
import { owners } from '../../client/swarm/rendezvous.js';
import type { PlaylistUpdate } from '../../protocol/worker.js';
import { linkSwarms } from '../support/swarm-links.js';
import { CFG, LINK, makeViewer, playlist, rawPeer, segBytes, SWARM, url, type TestViewer } from '../support/piece-swarm.js';

// Links and swarms keep timers running until closed: destroy everything each test made.
const made: TestViewer[] = [];
afterEach(() => {
  for (const v of made.splice(0)) v.swarm.destroy();
});
const viewer = (id: string, opts: Parameters<typeof makeViewer>[1] = {}): TestViewer => {
  const v = makeViewer(id, opts);
  made.push(v);
  return v;
};
const connect = (x: TestViewer, y: TestViewer): void => linkSwarms(x, y, SWARM, LINK);
const hello = JSON.stringify({ type: 'hello', v: PEER_PROTOCOL_VERSION, swarm: SWARM });

test('each new segment leaves the origin once; the others assemble it from peers before asking', async () => {
  const origin: string[] = [];
  const vs = ['p1', 'p2', 'p3', 'p4'].map((id) => viewer(id, { origin }));
  for (let i = 0; i < vs.length; i++) for (let j = i + 1; j < vs.length; j++) connect(vs[i]!, vs[j]!);
  await sleep(20);
  for (const v of vs) v.swarm.onPlaylist(playlist(10)); // join: only the live edge is prepared
  await sleep(50);
  origin.length = 0;
  for (let seq = 11; seq <= 16; seq++) {
    for (const v of vs) {
      v.swarm.onPlaylist(playlist(seq));
      await sleep(2);
    }
    await sleep(80);
    for (const v of vs) {
      const r = await v.swarm.get(url(seq), seq, 2000);
      assert.ok(r.hit, `${v.id} got seg ${seq}`);
      if (r.hit) assert.deepEqual(r.bytes, segBytes(seq));
    }
  }
  assert.equal(origin.length, 6, `one origin fetch per segment: ${origin.join(', ')}`);
  const owner = owners(vs.map((v) => v.id), url(15), 1)[0];
  assert.ok(origin.includes(`${owner} ${url(15)}`), 'the rendezvous owner fetched it');
  const delivered = vs.reduce((n, v) => n + v.stats.deliveredPeerBytes, 0);
  assert.equal(delivered, 3 * 6 * 150_000, 'the three others got every segment from peers');
});

test('a newcomer and its links are owners only after ownerMinAgeMs: nobody waits for a page that is starting', async () => {
  const young = { ...CFG, ownerMinAgeMs: 300 };
  const a = viewer('p1', { cfg: young });
  const b = viewer('p2', { cfg: young });
  connect(a, b);
  await sleep(30);
  const id = url(5);
  assert.deepEqual(a.swarm.originFetchersFor(id), [], 'no owner while both are new');
  const r = await a.swarm.get(id, 5, 2000);
  assert.equal(r.hit, false, 'a request does not wait for a starting page: the origin answers at once');
  await sleep(300);
  const owner = owners(['p1', 'p2'], id, 1);
  assert.deepEqual(a.swarm.originFetchersFor(id), owner);
  assert.deepEqual(b.swarm.originFetchersFor(id), owner, 'both agree once settled');
});

test('a request waits for the owner within its deadline, and misses when the deadline is too short', async () => {
  const origin: string[] = [];
  const a = viewer('a', { origin });
  const b = viewer('b', { origin });
  connect(a, b);
  await sleep(20);
  a.swarm.onPlaylist(playlist(5));
  b.swarm.onPlaylist(playlist(5));
  // Find a segment b owns, ask a for it before b knows it exists.
  let seq = 6;
  while (owners(['a', 'b'], url(seq), 1)[0] !== 'b') seq++;
  a.swarm.onPlaylist(playlist(seq));
  assert.deepEqual(await a.swarm.get(url(seq), seq, 0), { hit: false, reason: 'no time', steps: [] });
  const pending = a.swarm.get(url(seq), seq, 1500);
  await sleep(50);
  b.swarm.onPlaylist(playlist(seq)); // the owner learns it and fetches it
  const r = await pending;
  assert.ok(r.hit, JSON.stringify(r));
  assert.match(r.steps[0] ?? '', /^have\?b@\d+$/, 'the wait went to the owner, b (diagnostics)');
  assert.equal(origin.filter((o) => o.endsWith(`seg_${seq}.ts`)).length, 1);
  // a segment a owns: a does not wait for anyone (origin now).
  let own = seq + 1;
  while (owners(['a', 'b'], url(own), 1)[0] !== 'a') own++;
  const t0 = Date.now();
  const m = await a.swarm.get(url(own), own, 3000);
  assert.equal(m.hit, false);
  assert.ok(Date.now() - t0 < 500);
});

test('a peer that breaks the protocol is disconnected and banned; its pending requests fail at once', async () => {
  const v = viewer('v');
  v.swarm.onPlaylist(playlist(1));
  const evil = rawPeer(v, 'evil');
  evil.send(hello);
  evil.send(JSON.stringify({ type: 'have', segments: [{ id: url(1), seq: 1, bytes: 150_000 }] }));
  await sleep(20);
  assert.ok(evil.link.isReady);
  const pending = evil.link.requestPiece(url(1), 0, 5000, false);
  evil.send(new ArrayBuffer(3)); // garbage frame
  assert.deepEqual(await pending, { ok: false, reason: 'closed' });
  assert.equal(v.swarm.links.size, 0);
  assert.deepEqual(v.bans, ['evil']);
});

test('a hello for another swarm is refused', async () => {
  const v = viewer('v');
  const x = rawPeer(v, 'x');
  x.send(JSON.stringify({ type: 'hello', v: PEER_PROTOCOL_VERSION, swarm: 'http://other/stream.m3u8' }));
  await sleep(10);
  assert.equal(x.link.isReady, false);
  assert.equal(v.swarm.links.size, 0);
});

test('upload opt-out: nothing is announced and requests are answered no-upload', async () => {
  const x = viewer('x');
  const y = viewer('y', { env: { uploadAllowed: () => false } });
  connect(x, y);
  await sleep(20);
  y.swarm.onPlaylist(playlist(1));
  y.swarm.onOriginCopy(url(1), 1, segBytes(1));
  await sleep(20);
  const link = x.swarm.links.get('y');
  assert.ok(link?.isReady);
  assert.ok(!link.remoteHas.has(url(1)), 'a page that does not upload announces nothing');
  assert.equal(y.stats.uploadedBytes, 0);
});

test('a peer flooding control messages is disconnected', async () => {
  const v = viewer('v');
  const flood = rawPeer(v, 'flood');
  flood.send(hello);
  for (let i = 0; i < 1000; i++) flood.send(JSON.stringify({ type: 'cancel', reqId: i }));
  await sleep(20);
  assert.equal(flood.link.isReady, false);
  assert.equal(v.swarm.links.size, 0);
});

test('a frame whose total differs from the announced size, or that is not the piece asked for, is a violation', async () => {
  for (const frame of [encodeFrame(1, 32 * 1024 * 1024, 0, new Uint8Array(10)), encodeFrame(1, 150_000, 12_500, new Uint8Array(12_500)), encodeFrame(1, 150_000, 0, new Uint8Array(100))]) {
    const v = viewer('v');
    v.swarm.onPlaylist(playlist(1));
    const liar = rawPeer(v, 'liar');
    liar.send(hello);
    liar.send(JSON.stringify({ type: 'have', segments: [{ id: url(1), seq: 1, bytes: 150_000 }] }));
    for (let i = 0; i < 200 && !liar.link.remoteHas.has(url(1)); i++) await sleep(10);
    const pending = liar.link.requestPiece(url(1), 0, 1000, false);
    liar.send(frame);
    assert.deepEqual(await pending, { ok: false, reason: 'closed' });
  }
});

test('a stuck owner costs at most one playlist refresh plus a grace, not the whole buffer', async () => {
  const a = viewer('a');
  const b = viewer('b');
  connect(a, b);
  await sleep(20);
  const short = (upTo: number): PlaylistUpdate => ({ ...playlist(upTo), targetDurationSec: 0.5 });
  a.swarm.onPlaylist(short(5));
  let seq = 6;
  while (owners(['a', 'b'], url(seq), 1)[0] !== 'b') seq++;
  a.swarm.onPlaylist(short(seq)); // b never learns it: it is stuck
  const t0 = Date.now();
  const r = await a.swarm.get(url(seq), seq, 8000);
  const waited = Date.now() - t0;
  assert.equal(r.hit, false);
  assert.ok(waited >= 1500 && waited < 3500, `gave up after ${waited} ms (grace 0.5 s + 1.5 s), not the 8 s deadline`);
});

test('a VOD copy restored from the disk cache is checked against the published hash again and counted as cache bytes', async () => {
  const v = viewer('v');
  const edited = segBytes(7).map((x, i) => (i === 100 ? x ^ 1 : x));
  assert.equal(await v.swarm.restore({ id: url(7), seq: 7, bytes: edited, source: 'origin', hop: 0 }), false, 'edited bytes are not taken back');
  assert.equal(v.swarm.hasStored(url(7)), false);
  assert.equal(await v.swarm.restore({ id: url(8), seq: 8, bytes: segBytes(8), source: 'origin', hop: 0 }), true);
  const r = await v.swarm.get(url(8), 8, 0);
  assert.ok(r.hit);
  assert.equal(v.stats.deliveredCacheBytes, 150_000);
  assert.equal(v.stats.deliveredOriginBytes + v.stats.deliveredPeerBytes, 0, 'neither origin nor peer bytes');
});
