import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { Bitfield, fromBase64Url, pieceCount, toBase64Url } from '../../protocol/pieces.js';
import { PEER_PROTOCOL_VERSION, parsePeerMessage } from '../../protocol/peer.js';
import { encodeFrame } from '../../protocol/framing.js';
import { PieceCopy } from '../../client/storage/piece-copy.js';
import { originRuns } from '../../client/swarm/fill.js';
import { linkSwarms } from '../support/swarm-links.js';
import { digest, LINK, makeViewer, PIECE, playlist, published, rawPeer, segBytes, SWARM, url, type TestViewer } from '../support/piece-swarm.js';

const made: TestViewer[] = [];
afterEach(() => {
  for (const v of made.splice(0)) v.swarm.destroy();
});
/** Nobody here is an origin fetcher (all too new): every copy comes from the holders each test sets up. */
const NO_OWNERS = { originFetchers: 1, ownerMinAgeMs: 60_000 };
const viewer = (id: string, opts: Parameters<typeof makeViewer>[1] = {}): TestViewer => {
  const v = makeViewer(id, { cfg: NO_OWNERS, ...opts });
  made.push(v);
  return v;
};
const hello = JSON.stringify({ type: 'hello', v: PEER_PROTOCOL_VERSION, swarm: SWARM });
const PIECES = pieceCount(150_000, PIECE);

test('bitfields and base64url are strict: the exact length, no stray bits, no other characters', () => {
  const b = new Bitfield(13);
  for (const i of [0, 5, 12]) b.set(i);
  const text = b.encode();
  const back = Bitfield.decode(text, 13);
  assert.ok(back);
  assert.deepEqual([...Array(13).keys()].filter((i) => back.has(i)), [0, 5, 12]);
  assert.equal(Bitfield.decode(text, 12), undefined, 'a bit past the end');
  assert.equal(Bitfield.decode(text, 17), undefined, 'the wrong length');
  assert.equal(Bitfield.decode('A+', 8), undefined, 'not base64url');
  fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => assert.deepEqual(fromBase64Url(toBase64Url(bytes)), bytes)));
  fc.assert(fc.property(fc.string(), fc.integer({ min: 1, max: 1024 }), (s, n) => void Bitfield.decode(s, n)));
});

test('piece messages parse strictly', () => {
  assert.equal(parsePeerMessage('{"type":"request","reqId":1,"id":"a","piece":3,"hashes":true}').ok, true);
  for (const bad of [
    '{"type":"request","reqId":1,"id":"a"}',
    '{"type":"request","reqId":1,"id":"a","piece":-1}',
    '{"type":"request","reqId":1,"id":"a","piece":1024}',
    '{"type":"request","reqId":1,"id":"a","piece":1,"hashes":1}',
    '{"type":"hashes","id":"a"}',
    '{"type":"have","segments":[{"id":"a","seq":1,"bytes":1,"pieces":""}]}',
    '{"type":"have","segments":[{"id":"a","seq":1,"bytes":1,"pieces":7}]}',
  ]) {
    assert.equal(parsePeerMessage(bad).ok, false, bad);
  }
});

test('a piece copy holds pieces until the hash list comes, then keeps the good ones and names the sender of a bad one', async () => {
  const bytes = segBytes(3);
  const { list } = published(bytes);
  const copy = new PieceCopy(url(3), 3, bytes.byteLength, PIECE, digest);
  const piece = (i: number): Uint8Array => bytes.slice(i * PIECE, Math.min(bytes.length, (i + 1) * PIECE));
  assert.equal(await copy.addPeerPiece(0, piece(0), 'honest'), 'held');
  const bad = piece(1);
  bad[7] = (bad[7] ?? 0) ^ 1;
  assert.equal(await copy.addPeerPiece(1, bad, 'liar'), 'held');
  assert.deepEqual(await copy.setList(list), ['liar']);
  assert.ok(copy.have.has(0) && !copy.have.has(1));
  assert.equal(await copy.addPeerPiece(1, piece(1), 'honest'), 'ok');
  assert.equal(copy.addOriginRange(2, PIECES - 1, bytes.slice(2 * PIECE)), PIECES - 2);
  assert.ok(copy.complete);
  assert.deepEqual(copy.bytes, bytes);
});

test('missing pieces become at most four origin ranges, merging the smallest gaps', () => {
  assert.deepEqual(originRuns([0, 1, 2, 5, 6, 9]), [[0, 2], [5, 6], [9, 9]]);
  assert.deepEqual(originRuns([0, 2, 4, 6, 7, 20]), [[0, 2], [4, 4], [6, 7], [20, 20]]);
  assert.deepEqual(originRuns([0, 2, 4, 6, 8, 20], 2), [[0, 8], [20, 20]]);
});

test('one segment comes from several peers at once, in proportion to what each delivers', async () => {
  const fast = viewer('fast');
  const slow = viewer('slow');
  const c = viewer('c');
  linkSwarms(fast, c, SWARM, LINK, undefined, { x: 1_500_000 });
  linkSwarms(slow, c, SWARM, LINK, undefined, { x: 300_000 });
  await sleep(20);
  for (const v of [fast, slow, c]) v.swarm.onPlaylist(playlist(4));
  for (const v of [fast, slow]) v.swarm.onOriginCopy(url(4), 4, segBytes(4));
  await sleep(20);
  const r = await c.swarm.get(url(4), 4, 3000);
  assert.ok(r.hit);
  assert.deepEqual(r.bytes, segBytes(4));
  const fromFast = fast.stats.uploadedBytes;
  const fromSlow = slow.stats.uploadedBytes;
  assert.ok(fromSlow > 0, 'the slow peer contributed');
  assert.ok(fromFast > 2 * fromSlow, `the fast peer gave more (${fromFast} vs ${fromSlow})`);
  assert.equal(c.origin.length, 0);
});

test('pieces are relayed while the copy is still arriving: the next hop has pieces before the relay has the whole', async () => {
  const a = viewer('a');
  const b = viewer('b');
  const c = viewer('c');
  linkSwarms(a, b, SWARM, LINK, undefined, { x: 400_000 });
  linkSwarms(b, c, SWARM, LINK);
  await sleep(20);
  for (const v of [a, b, c]) v.swarm.onPlaylist(playlist(4));
  a.swarm.onOriginCopy(url(4), 4, segBytes(4));
  // b is still receiving (150 kB at 400 kB/s), c already gets pieces from it.
  await sleep(200);
  assert.equal(b.swarm.hasStored(url(4)), false, 'b is not complete yet');
  assert.ok(c.stats.peerBytes > 0, 'c got pieces from b before b completed');
  const r = await c.swarm.get(url(4), 4, 2000);
  assert.ok(r.hit);
  assert.deepEqual(r.bytes, segBytes(4));
});

test('a lying peer: its bad piece is rejected on arrival, it alone is banned, and the segment still arrives whole', async () => {
  const honest = viewer('honest');
  const c = viewer('c');
  linkSwarms(honest, c, SWARM, LINK, undefined, { x: 500_000 });
  await sleep(20);
  for (const v of [honest, c]) v.swarm.onPlaylist(playlist(4));
  honest.swarm.onOriginCopy(url(4), 4, segBytes(4));
  const liar = rawPeer(c, 'liar');
  liar.send(hello);
  liar.send(JSON.stringify({ type: 'have', segments: [{ id: url(4), seq: 4, bytes: 150_000 }] }));
  await sleep(20);
  const { list } = published(segBytes(4));
  // The liar answers every piece request with flipped bytes of the right size (and an honest list).
  const answered = new Set<number>();
  const answer = setInterval(() => {
    for (const m of liar.got.splice(0)) {
      if (typeof m !== 'string') continue;
      const q = JSON.parse(m) as { type: string; reqId: number; piece: number; hashes?: true };
      if (q.type !== 'request' || answered.has(q.reqId)) continue;
      answered.add(q.reqId);
      if (q.hashes) liar.send(JSON.stringify({ type: 'hashes', id: url(4), list: toBase64Url(list) }));
      const start = q.piece * PIECE;
      const bad = segBytes(4).slice(start, Math.min(150_000, start + PIECE)).map((x) => x ^ 0xff);
      liar.send(encodeFrame(q.reqId, 150_000, start, bad));
    }
  }, 2);
  const r = await c.swarm.get(url(4), 4, 3000);
  clearInterval(answer);
  assert.ok(r.hit);
  assert.deepEqual(r.bytes, segBytes(4));
  assert.deepEqual(c.bans, ['liar']);
  assert.ok(c.stats.rejectedSegments >= 1);
});

test('a forged hash list bans its sender', async () => {
  const c = viewer('c');
  c.swarm.onPlaylist(playlist(4));
  const liar = rawPeer(c, 'liar');
  liar.send(hello);
  liar.send(JSON.stringify({ type: 'have', segments: [{ id: url(4), seq: 4, bytes: 150_000 }] }));
  await sleep(30);
  const req = liar.got.map((m) => (typeof m === 'string' ? (JSON.parse(m) as { type: string; hashes?: true }) : undefined)).find((m) => m?.type === 'request');
  assert.equal(req?.hashes, true, 'the first piece request asks for the hash list');
  const forged = published(segBytes(4)).list.map((x) => x ^ 1);
  liar.send(JSON.stringify({ type: 'hashes', id: url(4), list: toBase64Url(forged) }));
  await sleep(30);
  assert.deepEqual(c.bans, ['liar']);
});

test('at the deadline the origin sends only the pieces no peer delivered', async () => {
  const a = viewer('a');
  const c = viewer('c');
  // 150 kB at 60 kB/s: about a third arrives in 0.8 s.
  linkSwarms(a, c, SWARM, LINK, undefined, { x: 60_000 });
  await sleep(20);
  for (const v of [a, c]) v.swarm.onPlaylist(playlist(4));
  a.swarm.onOriginCopy(url(4), 4, segBytes(4));
  await sleep(10);
  const r = await c.swarm.get(url(4), 4, 800);
  assert.ok(r.hit, JSON.stringify(r));
  assert.deepEqual(r.bytes, segBytes(4));
  assert.ok(c.origin.length >= 1 && c.origin.every((o) => /seg_4\.ts \d+-\d+$/.test(o)), `byte ranges only: ${c.origin.join(', ')}`);
  const filled = c.origin.map((o) => o.split(' ')[2]!.split('-').map(Number)).reduce((n, [s, e]) => n + e! - s! + 1, 0);
  assert.ok(filled < 150_000 && filled > 0, `filled ${filled} of 150000 bytes`);
  assert.ok(r.steps.some((s) => s.startsWith('fill:')));
  assert.equal(c.stats.deliveredPeerBytes + c.stats.deliveredOriginBytes, 150_000);
  assert.equal(c.stats.deliveredOriginBytes, filled);
});

test('endgame: near the deadline a piece stuck at a slow holder is asked of another one as well', async () => {
  const slow = viewer('slow');
  const fast = viewer('fast');
  const c = viewer('c');
  // 2 kB/s: a piece takes 6 s, past the player's deadline.
  linkSwarms(slow, c, SWARM, LINK, undefined, { x: 2_000 });
  await sleep(20);
  for (const v of [slow, fast, c]) v.swarm.onPlaylist(playlist(4));
  slow.swarm.onOriginCopy(url(4), 4, segBytes(4));
  await sleep(100);
  // c has asked the slow holder for pieces; a fast holder appears while a player waits.
  fast.swarm.onOriginCopy(url(4), 4, segBytes(4));
  linkSwarms(fast, c, SWARM, LINK);
  const r = await c.swarm.get(url(4), 4, 2500);
  assert.ok(r.hit);
  assert.deepEqual(r.bytes, segBytes(4));
  assert.equal(c.origin.length, 0, 'no origin fill needed: the pieces stuck at the slow holder came from the fast one');
  assert.equal(fast.stats.uploadedBytes, 150_000, 'the fast holder delivered all of it');
});

test('a holder sends a few pieces at a time, the oldest segment first, and answers busy beyond its queue', async () => {
  const h = viewer('h', { slots: 1 });
  h.swarm.onPlaylist(playlist(6));
  for (const s of [5, 6]) h.swarm.onOriginCopy(url(s), s, segBytes(s));
  // The holder's uplink to p: 1 MB/s, a piece in 12.5 ms.
  const p = rawPeer(h, 'p', 1_000_000);
  p.send(hello);
  await sleep(10);
  // A piece of segment 6, then ten of segment 5: one is sent at once, eight wait, two are over the per-peer cap.
  p.send(JSON.stringify({ type: 'request', reqId: 1, id: url(6), piece: 0 }));
  for (let i = 0; i < 10; i++) p.send(JSON.stringify({ type: 'request', reqId: 10 + i, id: url(5), piece: i }));
  await sleep(400);
  const frames = p.got.filter((m): m is ArrayBuffer => m instanceof ArrayBuffer).map((f) => new DataView(f).getUint32(2));
  assert.equal(frames[0], 1, 'the first request was being sent already');
  assert.deepEqual(frames.slice(1), [10, 11, 12, 13, 14, 15, 16, 17], 'then segment 5, in order, one at a time');
  const busy = p.got.filter((m): m is string => typeof m === 'string' && m.includes('"busy"')).map((m) => (JSON.parse(m) as { reqId: number }).reqId);
  assert.deepEqual(busy, [18, 19], 'the requests over the per-peer cap were answered busy');
});
