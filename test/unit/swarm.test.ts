import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PeerLink } from '../../client/transport/peer-link.js';
import { PEER_PROTOCOL_VERSION } from '../../protocol/peer.js';
import { owners } from '../../client/swarm/rendezvous.js';
import { emptyStats } from '../../client/core/stats.js';
import { SegmentStore } from '../../client/storage/store.js';
import { Swarm } from '../../client/swarm/swarm.js';
import { sha256Base64Url, Verifier } from '../../client/core/integrity.js';
import type { PlaylistUpdate } from '../../protocol/worker.js';
import { channelPair } from '../support/fake-channel.js';
import { linkSwarms } from '../support/swarm-links.js';

const SWARM = 'http://origin.test/live/index.m3u8';
const cfg = { originFetchers: 1, upload: true, maxUploadsTotal: 8, maxUploadsPerPeer: 2, sendHighWaterBytes: 1 << 20 };

function segBytes(seq: number): Uint8Array {
  const b = new Uint8Array(150_000);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seq) & 0xff;
  return b;
}

// Links keep a keepalive timer running until closed: close everything each test made.
const made: { close(reason: string): void }[] = [];
const swarms: Swarm[] = [];
afterEach(() => {
  for (const l of made.splice(0)) l.close('test over');
  for (const s of swarms.splice(0)) s.destroy();
});
const track = <T extends { close(reason: string): void }>(l: T): T => {
  made.push(l);
  return l;
};

/** The origin's published hashes, served like the adapter's /relaycast/hash. */
const hashFetch: typeof fetch = async (input) => {
  const path = new URL(String(input)).searchParams.get('path') ?? '';
  const seq = Number(/(\d+)\.ts$/.exec(path)?.[1]);
  if (!Number.isFinite(seq)) return new Response('{}', { status: 404 });
  return new Response(JSON.stringify({ sha256: await sha256Base64Url(segBytes(seq)) }));
};

function makeViewer(id: string, originLog: string[], bans: string[] = [], swarmCfg: typeof cfg & { ownerMinAgeMs?: number } = cfg) {
  const stats = emptyStats();
  const verifier = new Verifier('http://origin.test/relaycast/hash', hashFetch);
  const swarm = new Swarm(SWARM, swarmCfg, new SegmentStore({ maxBytes: 1 << 26, keepSegments: 10 }), {
    selfId: () => id,
    originFetch: async (url) => {
      originLog.push(`${id} ${url}`);
      return segBytes(Number(/(\d+)\.ts$/.exec(url)?.[1]));
    },
    stats,
    uploadsInFlight: () => 0,
    verify: (sid, bytes) => verifier.verify(sid, bytes),
    uploadAllowed: () => true,
    throttle: async () => undefined,
    onBadPeer: (peerId) => {
      bans.push(peerId);
      swarm.links.get(peerId)?.close('banned');
    },
  });
  swarms.push(swarm);
  return { id, swarm, stats };
}

function connect(x: ReturnType<typeof makeViewer>, y: ReturnType<typeof makeViewer>): void {
  linkSwarms(x, y, SWARM, cfg, track);
}

function playlist(upTo: number): PlaylistUpdate {
  const segments = [];
  for (let s = Math.max(0, upTo - 5); s <= upTo; s++) {
    const url = `http://origin.test/live/seg_${s}.ts`;
    segments.push({ id: url, url, seq: s, durationSec: 2 });
  }
  return { type: 'rc-playlist', swarm: SWARM, targetDurationSec: 2, live: true, integrity: true, segments };
}

test('each new segment leaves the origin once; the others get it from peers before asking', async () => {
  const origin: string[] = [];
  const viewers = ['p1', 'p2', 'p3', 'p4'].map((id) => makeViewer(id, origin));
  for (let i = 0; i < viewers.length; i++) for (let j = i + 1; j < viewers.length; j++) connect(viewers[i]!, viewers[j]!);
  await sleep(20);
  for (const v of viewers) v.swarm.onPlaylist(playlist(10)); // join: only the live edge is prepared
  origin.length = 0;
  for (let seq = 11; seq <= 20; seq++) {
    // Viewers refresh their playlists at different moments.
    for (const v of viewers) {
      v.swarm.onPlaylist(playlist(seq));
      await sleep(2);
    }
    await sleep(30);
    const id = `http://origin.test/live/seg_${seq}.ts`;
    for (const v of viewers) {
      const r = await v.swarm.get(id, seq, 2000);
      assert.ok(r.hit, `${v.id} got seg ${seq}`);
      if (r.hit) assert.deepEqual(r.bytes, segBytes(seq));
    }
  }
  assert.equal(origin.length, 10, 'one origin fetch per segment');
  const owner = owners(viewers.map((v) => v.id), 'http://origin.test/live/seg_15.ts', 1)[0];
  assert.ok(origin.includes(`${owner} http://origin.test/live/seg_15.ts`), 'the rendezvous owner fetched it');
  const peerBytes = viewers.reduce((n, v) => n + v.stats.peerBytes, 0);
  assert.equal(peerBytes, 3 * 11 * 150_000, 'the three others pulled every segment (and the live edge at join) from peers');
});

test('a newcomer and its links are owners only after ownerMinAgeMs: nobody waits for a page that is starting', async () => {
  const origin: string[] = [];
  const young = { ...cfg, ownerMinAgeMs: 300 };
  const [a, b] = ['p1', 'p2'].map((id) => makeViewer(id, origin, [], young));
  connect(a!, b!);
  await sleep(30);
  const id = 'http://origin.test/live/seg_5.ts';
  assert.deepEqual(a!.swarm.originFetchersFor(id), [], 'no owner while both are new');
  const r = await a!.swarm.get(id, 5, 2000);
  assert.equal(r.hit, false, 'a request does not wait for a starting page: the origin answers at once');
  await sleep(300);
  const owner = owners(['p1', 'p2'], id, 1);
  assert.deepEqual(a!.swarm.originFetchersFor(id), owner);
  assert.deepEqual(b!.swarm.originFetchersFor(id), owner, 'both agree once settled');
});

test('a request waits for the owner within its deadline, and misses when the deadline is too short', async () => {
  const origin: string[] = [];
  const [a, b] = ['a', 'b'].map((id) => makeViewer(id, origin)) as [ReturnType<typeof makeViewer>, ReturnType<typeof makeViewer>];
  connect(a, b);
  await sleep(20);
  a.swarm.onPlaylist(playlist(5));
  b.swarm.onPlaylist(playlist(5));
  // Find a segment b owns, ask a for it before b knows it exists.
  let seq = 6;
  while (owners(['a', 'b'], `http://origin.test/live/seg_${seq}.ts`, 1)[0] !== 'b') seq++;
  const id = `http://origin.test/live/seg_${seq}.ts`;
  a.swarm.onPlaylist(playlist(seq));
  assert.deepEqual(await a.swarm.get(id, seq, 0), { hit: false, reason: 'no time', steps: [] });
  const pending = a.swarm.get(id, seq, 1000);
  await sleep(50);
  b.swarm.onPlaylist(playlist(seq)); // the owner learns it and fetches it
  const r = await pending;
  assert.ok(r.hit);
  assert.match(r.steps[0] ?? '', /^have\?b@\d+$/, 'the wait went to the owner, b (diagnostics)');
  assert.equal(origin.filter((o) => o.endsWith(`seg_${seq}.ts`)).length, 1);
  // a segment a owns: a does not wait for anyone (origin now).
  let own = seq + 1;
  while (owners(['a', 'b'], `http://origin.test/live/seg_${own}.ts`, 1)[0] !== 'a') own++;
  const t0 = Date.now();
  const m = await a.swarm.get(`http://origin.test/live/seg_${own}.ts`, own, 3000);
  assert.equal(m.hit, false);
  assert.ok(Date.now() - t0 < 500);
});

test('a peer that breaks the protocol is disconnected; pending pulls fail fast', async () => {
  const origin: string[] = [];
  const v = makeViewer('v', origin);
  const { a, b } = channelPair();
  const link = track(new PeerLink('evil', SWARM, a, v.swarm, cfg));
  a.onData = (d) => link.receive(d);
  v.swarm.addLink(link);
  link.start();
  b.send(JSON.stringify({ type: 'hello', v: PEER_PROTOCOL_VERSION, swarm: SWARM }));
  b.send(JSON.stringify({ type: 'have', segments: [{ id: 'http://origin.test/live/seg_1.ts', seq: 1, bytes: 10 }] }));
  await sleep(10);
  assert.ok(link.isReady);
  const pull = link.pull('http://origin.test/live/seg_1.ts', 5000);
  b.send(new ArrayBuffer(3)); // garbage frame
  const r = await pull;
  assert.deepEqual(r, { ok: false, reason: 'closed' });
  assert.equal(link.isReady, false);
  assert.equal(v.swarm.links.size, 0);
});

test('a hello for another swarm is refused', async () => {
  const v = makeViewer('v', []);
  const { a, b } = channelPair();
  const link = track(new PeerLink('x', SWARM, a, v.swarm, cfg));
  a.onData = (d) => link.receive(d);
  v.swarm.addLink(link);
  b.send(JSON.stringify({ type: 'hello', v: PEER_PROTOCOL_VERSION, swarm: 'http://other/stream.m3u8' }));
  await sleep(10);
  assert.equal(link.isReady, false);
  assert.equal(v.swarm.links.size, 0);
});

test('upload opt-out answers no-upload', async () => {
  const origin: string[] = [];
  const x = makeViewer('x', origin);
  const stats = emptyStats();
  const y = {
    id: 'y',
    stats,
    swarm: new Swarm(SWARM, cfg, new SegmentStore({ maxBytes: 1 << 26, keepSegments: 10 }), {
      selfId: () => 'y',
      originFetch: async () => segBytes(1),
      stats,
      uploadsInFlight: () => 0,
      verify: async () => 'ok',
      onBadPeer: () => undefined,
      uploadAllowed: () => false,
      throttle: async () => undefined,
    }),
  };
  swarms.push(y.swarm);
  connect(x, y);
  await sleep(20);
  y.swarm.onOriginCopy('http://origin.test/live/seg_1.ts', 1, segBytes(1));
  await sleep(20);
  const link = x.swarm.links.get('y');
  assert.ok(link?.isReady);
  assert.ok(!link.remoteHas.has('http://origin.test/live/seg_1.ts'), 'a page that does not upload announces nothing');
  const r = await link.pull('http://origin.test/live/seg_1.ts', 1000);
  assert.deepEqual(r, { ok: false, reason: 'miss' });
  assert.equal(stats.uploadedBytes, 0);
});

test('bytes that do not match the published hash never reach the store; the sender is banned', async () => {
  const origin: string[] = [];
  const bans: string[] = [];
  const v = makeViewer('v', origin, bans);
  v.swarm.onPlaylist(playlist(3));
  const { a, b } = channelPair();
  const link = track(new PeerLink('evil', SWARM, a, v.swarm, cfg));
  a.onData = (d) => link.receive(d);
  v.swarm.addLink(link);
  link.start();
  // The evil peer: says hello, announces seg 4, answers every request with flipped bytes of the right size.
  const evil = track(new PeerLink('v', SWARM, b, {
    onReady: () => undefined,
    onHave: () => undefined,
    serve: () => segBytes(4).map((x) => x ^ 0xff),
    onUploaded: () => undefined,
    onClose: () => undefined,
    throttle: async () => undefined,
  }, cfg));
  b.onData = (d) => evil.receive(d);
  evil.start();
  await sleep(10);
  evil.announce([{ id: 'http://origin.test/live/seg_4.ts', seq: 4, bytes: 150_000 }]);
  await sleep(10);
  const r = await v.swarm.get('http://origin.test/live/seg_4.ts', 4, 500);
  assert.equal(r.hit, false, 'corrupted bytes are not delivered');
  assert.deepEqual(bans, ['evil']);
  assert.equal(v.stats.rejectedSegments, 1);
  assert.equal(v.swarm.links.size, 0);
});

test('a peer flooding control messages is disconnected', async () => {
  const v = makeViewer('v', []);
  const { a, b } = channelPair();
  const link = track(new PeerLink('flood', SWARM, a, v.swarm, cfg));
  a.onData = (d) => link.receive(d);
  v.swarm.addLink(link);
  b.send(JSON.stringify({ type: 'hello', v: PEER_PROTOCOL_VERSION, swarm: SWARM }));
  for (let i = 0; i < 1000; i++) b.send(JSON.stringify({ type: 'cancel', reqId: i }));
  await sleep(20);
  assert.equal(link.isReady, false);
  assert.equal(v.swarm.links.size, 0);
});

test('frames whose total differs from the announced size are a violation', async () => {
  const v = makeViewer('v', []);
  const { a, b } = channelPair();
  const link = track(new PeerLink('liar', SWARM, a, v.swarm, cfg));
  a.onData = (d) => link.receive(d);
  v.swarm.addLink(link);
  link.start();
  b.send(JSON.stringify({ type: 'hello', v: PEER_PROTOCOL_VERSION, swarm: SWARM }));
  await sleep(5);
  const pull = link.pull('http://origin.test/live/seg_1.ts', 1000, 1000);
  const { encodeFrame } = await import('../../protocol/framing.js');
  b.send(encodeFrame(1, 32 * 1024 * 1024, 0, new Uint8Array(10)));
  assert.deepEqual(await pull, { ok: false, reason: 'closed' });
});

test('a stuck owner costs at most one playlist refresh plus a grace, not the whole buffer', async () => {
  const a = makeViewer('a', []);
  const b = makeViewer('b', []);
  connect(a, b);
  await sleep(20);
  const short = (upTo: number): PlaylistUpdate => ({ ...playlist(upTo), targetDurationSec: 0.5 });
  a.swarm.onPlaylist(short(5));
  let seq = 6;
  while (owners(['a', 'b'], `http://origin.test/live/seg_${seq}.ts`, 1)[0] !== 'b') seq++;
  a.swarm.onPlaylist(short(seq)); // b never learns it: it is stuck
  const t0 = Date.now();
  const r = await a.swarm.get(`http://origin.test/live/seg_${seq}.ts`, seq, 8000);
  const waited = Date.now() - t0;
  assert.equal(r.hit, false);
  assert.ok(waited >= 1500 && waited < 3500, `gave up after ${waited} ms (grace 0.5 s + 1.5 s), not the 8 s deadline`);
});
