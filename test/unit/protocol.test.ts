import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, frames, Reassembly, FRAME_HEADER_BYTES } from '../../protocol/framing.js';
import { LIMITS } from '../../protocol/limits.js';
import { encodePeerMessage, parsePeerMessage, type PeerMessage } from '../../protocol/peer.js';
import { parseTrackerAnnounce, parseTrackerPeers } from '../../protocol/tracker.js';
import { parsePageToWorker, parseSegmentReply, parseWorkerToPage } from '../../protocol/worker.js';

test('peer messages round-trip', () => {
  const msgs: PeerMessage[] = [
    { type: 'hello', v: 1, swarm: 'http://x/index.m3u8' },
    { type: 'have', segments: [{ id: 'http://x/a.ts', seq: 4, bytes: 1000 }] },
    { type: 'request', reqId: 7, id: 'http://x/a.ts', piece: 0 },
    { type: 'request', reqId: 8, id: 'http://x/a.ts', piece: 3, hashes: true },
    { type: 'hashes', id: 'http://x/a.ts', list: 'AAAA' },
    { type: 'cancel', reqId: 7 },
    { type: 'miss', reqId: 7, reason: 'busy' },
    { type: 'ping', n: 3 },
    { type: 'pong', n: 3 },
    { type: 'have', segments: [{ id: 'http://x/b.ts', seq: 5, bytes: 10, hop: 2 }] },
    { type: 'have', segments: [{ id: 'http://x/c.ts', seq: 6, bytes: 10, hop: 1, pieces: 'gA' }] },
  ];
  for (const m of msgs) assert.deepEqual(parsePeerMessage(encodePeerMessage(m)), { ok: true, value: m });
});

test('hostile peer messages are rejected, never thrown', () => {
  const bad = [
    'not json',
    '[]',
    'null',
    '{"type":"hello","v":1}',
    '{"type":"have","segments":"x"}',
    JSON.stringify({ type: 'have', segments: Array.from({ length: LIMITS.haveItems + 1 }, (_, i) => ({ id: `a${i}`, seq: i, bytes: 1 })) }),
    '{"type":"have","segments":[{"id":"a","seq":-1,"bytes":1}]}',
    JSON.stringify({ type: 'have', segments: [{ id: 'a', seq: 1, bytes: LIMITS.segmentBytes + 1 }] }),
    '{"type":"request","reqId":1.5,"id":"a","piece":0}',
    '{"type":"request","reqId":1,"id":"has space","piece":0}',
    '{"type":"miss","reqId":1,"reason":"whatever"}',
    '{"type":"ping","n":-1}',
    '{"type":"have","segments":[{"id":"a","seq":1,"bytes":1,"hop":33}]}',
    '{"type":"have","segments":[{"id":"a","seq":1,"bytes":1,"pieces":true}]}',
    JSON.stringify({ type: 'have', segments: [{ id: 'a', seq: 1, bytes: 1, pieces: 'A'.repeat(200) }] }),
    '{"type":"__proto__"}',
    'x'.repeat(LIMITS.controlMessageChars + 1),
  ];
  for (const b of bad) assert.equal(parsePeerMessage(b).ok, false, b.slice(0, 80));
});

test('property: parsePeerMessage never throws on arbitrary strings and JSON', () => {
  fc.assert(fc.property(fc.string(), (s) => void parsePeerMessage(s)));
  fc.assert(fc.property(fc.json(), (s) => void parsePeerMessage(s)));
  fc.assert(
    fc.property(fc.anything(), (v) => {
      parseTrackerAnnounce(v);
      parseTrackerPeers(v);
      parseWorkerToPage(v);
      parseSegmentReply(v);
      parsePageToWorker(v);
    }),
  );
});

test('tracker messages validate ids and sizes', () => {
  assert.ok(parseTrackerAnnounce({ type: 'announce', swarm: 's', peerId: 'p', uploads: false }).ok);
  assert.equal(parseTrackerAnnounce({ type: 'announce', swarm: 's', peerId: 'x'.repeat(65) }).ok, false);
  assert.equal(parseTrackerAnnounce({ type: 'announce', swarm: 's', peerId: 'a b' }).ok, false);
  const peers = { type: 'peers', swarm: 's', peers: ['a', 'b'], swarmSize: 3, seeders: ['a'], fetchersPerSegment: 1, announceIntervalMs: 3000, p2p: true };
  assert.ok(parseTrackerPeers(peers).ok);
  assert.equal(parseTrackerPeers({ ...peers, peers: Array(LIMITS.trackerPeers + 1).fill('a') }).ok, false);
  assert.equal(parseTrackerPeers({ ...peers, announceIntervalMs: 1 }).ok, false);
  assert.equal(parseTrackerPeers({ ...peers, seeders: ['bad id'] }).ok, false);
  assert.equal(parseTrackerPeers({ ...peers, fetchersPerSegment: 0 }).ok, false);
});

test('framing: property round-trip through encode/decode/reassembly', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 300_000 }), fc.integer({ min: 1, max: LIMITS.chunkPayloadBytes }), fc.nat(0xffffffff), (bytes, chunk, reqId) => {
      const r = new Reassembly(reqId, bytes.byteLength);
      let state = 'more';
      for (const f of frames(reqId, bytes, chunk)) {
        assert.ok(f.byteLength <= FRAME_HEADER_BYTES + LIMITS.chunkPayloadBytes);
        const d = decodeFrame(f);
        assert.ok(d.ok);
        if (!d.ok) return;
        const a = r.add(d.value);
        assert.ok(a.ok);
        if (a.ok) state = a.value;
      }
      assert.equal(state, 'done');
      assert.deepEqual(r.bytes, bytes);
    }),
    { numRuns: 50 },
  );
});

test('framing: forged frames are rejected', () => {
  const payload = new Uint8Array([1, 2, 3]);
  assert.equal(decodeFrame(new ArrayBuffer(3)).ok, false, 'short');
  assert.equal(decodeFrame(new ArrayBuffer(FRAME_HEADER_BYTES + LIMITS.chunkPayloadBytes + 1)).ok, false, 'too large');
  assert.equal(decodeFrame(encodeFrame(1, 0, 0, payload)).ok, false, 'zero total');
  assert.equal(decodeFrame(encodeFrame(1, LIMITS.segmentBytes + 1, 0, payload)).ok, false, 'total over the cap');
  assert.equal(decodeFrame(encodeFrame(1, 2, 0, payload)).ok, false, 'chunk past the end');
  const bad = new Uint8Array(encodeFrame(1, 10, 0, payload));
  bad[0] = 0;
  assert.equal(decodeFrame(bad.buffer).ok, false, 'magic');
  const r = new Reassembly(1, 6);
  const f0 = decodeFrame(encodeFrame(1, 6, 3, payload));
  assert.ok(f0.ok);
  if (f0.ok) assert.equal(r.add(f0.value).ok, false, 'out of order (gap)');
  const f1 = decodeFrame(encodeFrame(1, 7, 0, payload));
  assert.ok(f1.ok);
  if (f1.ok) assert.equal(r.add(f1.value).ok, false, 'total changed mid-stream');
  const f2 = decodeFrame(encodeFrame(2, 6, 0, payload));
  if (f2.ok) assert.equal(r.add(f2.value).ok, false, 'other request');
});

test('property: decodeFrame never throws on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const buf = new ArrayBuffer(b.byteLength);
      new Uint8Array(buf).set(b);
      decodeFrame(buf);
    }),
  );
});

test('bounded collections drop the oldest entry; a token bucket allows a burst then its rate', async () => {
  const { putBounded, addBounded } = await import('../../protocol/bounded.js');
  const { TokenBucket } = await import('../../protocol/token-bucket.js');
  const m = new Map<string, number>();
  for (const k of ['a', 'b', 'c']) putBounded(m, k, 1, 2);
  putBounded(m, 'b', 2, 2);
  assert.deepEqual([...m.keys()], ['c', 'b'], 're-putting moves a key to the newest place');
  const s = new Set<string>();
  for (const k of ['a', 'b', 'a', 'c']) addBounded(s, k, 2);
  assert.deepEqual([...s], ['b', 'c'], 're-adding keeps the old place');
  const t = new TokenBucket(3, 2, 0);
  assert.deepEqual([t.take(0), t.take(0), t.take(0), t.take(0)], [true, true, true, false]);
  assert.equal(t.take(500), true, 'one token back after half a second at 2/s');
  assert.equal(t.take(500), false);
});
