import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stripeHeads } from '../../client/swarm/rendezvous.js';
import { encodeFrame } from '../../protocol/framing.js';
import { encodePeerMessage, parsePeerMessage, PEER_PROTOCOL_VERSION, PUSH_ID_BASE, type PeerMessage } from '../../protocol/peer.js';
import { homeStripe, MAX_FEED_DEPTH, STRIPES, stripeOf } from '../../protocol/stripes.js';
import { LIMITS } from '../../protocol/limits.js';
import { CFG, LINK, makeViewer, PIECE, playlist, published, rawPeer, segBytes, SWARM, url, type TestViewer } from '../support/piece-swarm.js';
import { linkSwarms } from '../support/swarm-links.js';
import { SILENT_MS } from '../../client/transport/link-health.js';

// Links and swarms keep timers running until closed: destroy everything each test made.
const made: TestViewer[] = [];
afterEach(() => {
  for (const v of made.splice(0)) v.swarm.destroy();
});
const viewer = (id: string, opts: Parameters<typeof makeViewer>[1] = {}): TestViewer => {
  // The trees between a few pages: in a full mesh the client uses them only where asked to.
  const v = makeViewer(id, { ...opts, cfg: { ...CFG, ...opts.cfg, treesInMesh: true } });
  made.push(v);
  return v;
};
const connect = (x: TestViewer, y: TestViewer): void => linkSwarms(x, y, SWARM, LINK);
const hello = JSON.stringify({ type: 'hello', v: PEER_PROTOCOL_VERSION, swarm: SWARM });
const SEG = 150_000;
const PIECES = Math.ceil(SEG / PIECE);

/** Waits until `cond` holds, polling; fails with `what` after `ms` (generous: a busy machine is slow, not wrong). */
async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting: ${what}`);
    await sleep(5);
  }
}

/** The control messages a raw peer received, parsed. */
const messages = (got: readonly unknown[]): PeerMessage[] =>
  got.filter((d): d is string => typeof d === 'string').flatMap((d) => {
    const m = parsePeerMessage(d);
    return m.ok ? [m.value] : [];
  });
const feeds = (got: readonly unknown[]): { s: number; ok: boolean }[] =>
  messages(got).flatMap((m) => (m.type === 'feed' ? [{ s: m.s, ok: m.ok }] : []));

/**
 * A playlist whose target duration is long: a page waits a refresh plus 1.5 s for a stripe's head
 * before the origin fills in, so on a busy machine nothing is filled by mistake.
 */
const slow = (upTo: number): ReturnType<typeof playlist> => ({ ...playlist(upTo), targetDurationSec: 10 });

/** `<who> <url> <start>-<end>` of the test origin's log. */
const rangeOf = (o: string): { who: string; bytes: number } => {
  const [who, , r] = o.split(' ');
  const [start, end] = (r ?? '').split('-').map(Number);
  return { who: who!, bytes: r === undefined ? SEG : end! - start! + 1 };
};

/**
 * Every page of `vs` counts all the others as members, the set stripe heads are chosen from
 * (client/swarm/owners.ts: ready links that neither time out nor went silent), so they agree
 * on the heads. A starved machine can stall a page past those limits.
 */
const membersAgree = (vs: readonly TestViewer[]): boolean =>
  vs.every((v) => [...v.swarm.links.values()].filter((l) => l.isReady && !l.failing && l.silentMs <= SILENT_MS).length === vs.length - 1);

/** Every stripe a viewer does not head has a parent that feeds it. */
const allFed = (v: TestViewer): boolean => {
  for (let s = 0; s < STRIPES; s++) if (!v.swarm.trees.feeds.fed(s)) return false;
  return true;
};

test('a 4-page mesh with room to feed: every page gets every segment, from several peers, and each segment leaves the origin once', async () => {
  const origin: string[] = [];
  const vs = ['p1', 'p2', 'p3', 'p4'].map((id) => viewer(id, { origin, env: { feedFits: () => true } }));
  for (let i = 0; i < vs.length; i++) for (let j = i + 1; j < vs.length; j++) connect(vs[i]!, vs[j]!);
  await until(() => vs.every((v) => [...v.swarm.links.values()].filter((l) => l.isReady).length === 3), 'links ready');
  for (const v of vs) v.swarm.onPlaylist(slow(10));
  // The trees form on the swarms' ticks; tick now rather than wait for the keepalive timer.
  await until(() => {
    for (const v of vs) v.swarm.trees.tick();
    return vs.every(allFed);
  }, 'every page fed every stripe');
  const heads = stripeHeads(vs.map((v) => v.id), SWARM, 1);
  for (const v of vs) {
    for (let s = 0; s < STRIPES; s++) {
      const parent = v.swarm.trees.feeds.parentOf(s);
      if (heads[s]![0] === v.id) assert.equal(parent, undefined, `${v.id} heads stripe ${s}: no parent`);
      else assert.equal(parent?.peerId, heads[s]![0], `${v.id}: stripe ${s} from its head (the shallowest)`);
    }
  }
  origin.length = 0;
  /** Segments listed while every page saw all four members: their heads agreed. */
  const agreed = new Set<number>();
  for (let seq = 11; seq <= 14; seq++) {
    // Heads are chosen when a page lists a segment.
    if (membersAgree(vs)) agreed.add(seq);
    for (const v of vs) v.swarm.onPlaylist(slow(seq));
    const got = await Promise.all(vs.map((v) => v.swarm.get(url(seq), seq, 20_000)));
    got.forEach((r, i) => {
      assert.ok(r.hit, `${vs[i]!.id} got seg ${seq}: ${JSON.stringify(r)}`);
      assert.deepEqual(r.bytes, segBytes(seq));
    });
  }
  assert.ok(agreed.size > 0, 'the pages agreed on the members for some segment');
  for (let seq = 11; seq <= 14; seq++) {
    const parts = origin.filter((o) => o.includes(` ${url(seq)}`)).map(rangeOf);
    const bytes = parts.reduce((n, p) => n + p.bytes, 0);
    if (agreed.has(seq)) assert.equal(bytes, SEG, `seg ${seq} left the origin exactly once: ${origin.join(', ')}`);
    else assert.ok(bytes >= SEG, `seg ${seq}: every byte left the origin (members differed: heads may overlap)`);
  }
  for (const v of vs) {
    assert.ok(v.stats.segmentsFromSeveralPeers > 0, `${v.id} assembled a segment from the pieces of two peers or more`);
    assert.equal(v.stats.filledSegments, 0, `${v.id}: nothing filled at a deadline`);
    assert.deepEqual(v.bans, []);
  }
  assert.ok(vs.some((v) => v.swarm.trees.children.count > 0), 'pages fed children');
});

test('without room to feed (the default test env), the mesh still delivers every segment once from the origin, by piece requests', async () => {
  const origin: string[] = [];
  const vs = ['q1', 'q2', 'q3'].map((id) => viewer(id, { origin }));
  for (let i = 0; i < vs.length; i++) for (let j = i + 1; j < vs.length; j++) connect(vs[i]!, vs[j]!);
  await until(() => vs.every((v) => [...v.swarm.links.values()].filter((l) => l.isReady).length === 2), 'links ready');
  for (const v of vs) v.swarm.onPlaylist(slow(10));
  for (const v of vs) v.swarm.trees.tick();
  origin.length = 0;
  const agreed = new Set<number>();
  for (let seq = 11; seq <= 12; seq++) {
    if (membersAgree(vs)) agreed.add(seq);
    for (const v of vs) v.swarm.onPlaylist(slow(seq));
    const got = await Promise.all(vs.map((v) => v.swarm.get(url(seq), seq, 20_000)));
    for (const r of got) {
      assert.ok(r.hit, JSON.stringify(r));
      assert.deepEqual(r.bytes, segBytes(seq));
    }
  }
  for (const v of vs) assert.equal(v.swarm.trees.children.count, 0, 'no child admitted: the uplink has no measured room');
  for (let seq = 11; seq <= 12; seq++) {
    const bytes = origin.filter((o) => o.includes(` ${url(seq)}`)).map(rangeOf).reduce((n, p) => n + p.bytes, 0);
    if (agreed.has(seq)) assert.equal(bytes, SEG, `seg ${seq} left the origin once: ${origin.join(', ')}`);
    else assert.ok(bytes >= SEG);
  }
});

/** A peer id that heads no stripe in a swarm of `honest` plus it (so no page waits on it as a head). */
function liarId(honest: readonly string[]): string {
  for (let k = 0; ; k++) {
    const id = `liar${k}`;
    if (!stripeHeads([...honest, id], SWARM, 1).some((h) => h.includes(id))) return id;
  }
}

test('a peer that pushes a piece with wrong bytes is banned, nobody else is, and the player still gets the right bytes', async () => {
  const origin: string[] = [];
  const ids = ['v', 'h1', 'h2', 'h3'];
  const vs = ids.map((id) => viewer(id, { origin, env: { feedFits: () => true } }));
  const v = vs[0]!;
  for (let i = 0; i < vs.length; i++) for (let j = i + 1; j < vs.length; j++) connect(vs[i]!, vs[j]!);
  const evilId = liarId(ids);
  const evil = rawPeer(v, evilId);
  evil.send(hello);
  evil.send(encodePeerMessage({ type: 'tree', depth: Array.from({ length: STRIPES }, () => 0), need: 0, up: true }));
  await until(() => evil.link.isReady && vs.every((x) => [...x.swarm.links.values()].filter((l) => l.isReady).length >= 3), 'links ready');
  for (const x of vs) x.swarm.onPlaylist(slow(10));
  for (const x of vs) x.swarm.trees.tick();

  // Segment 11 is not in v's playlist yet: a push of it starts its download (plausible next segment).
  const seq = 11;
  const bytes = segBytes(seq);
  const goodPiece = 0;
  const badPiece = PIECES - 1;
  const span = (p: number): [number, number] => [p * PIECE, Math.min(SEG, (p + 1) * PIECE)];
  const push = (reqId: number, piece: number, payload: Uint8Array): void => {
    evil.send(encodePeerMessage({ type: 'push', reqId, id: url(seq), seq, bytes: SEG, piece }));
    evil.send(encodeFrame(reqId, SEG, span(piece)[0], payload));
  };
  // One honest piece and the true hash list, so the liar looks like a good parent...
  push(PUSH_ID_BASE + 1, goodPiece, bytes.slice(...span(goodPiece)));
  evil.send(encodePeerMessage({ type: 'hashes', id: url(seq), list: Buffer.from(published(bytes).list).toString('base64url') }));
  // ...then a piece of the right size with wrong bytes.
  const wrong = bytes.slice(...span(badPiece)).map((b) => b ^ 0x5a);
  // v checked the list and the honest piece, and tells its peers it holds it.
  const announcedGood = (): boolean =>
    messages(evil.got).some((m) => m.type === 'have' && m.segments.some((x) => x.id === url(seq) && x.pieces !== undefined));
  await until(announcedGood, 'v announced the honest piece');
  assert.deepEqual(v.bans, []);
  push(PUSH_ID_BASE + 2, badPiece, wrong);
  await until(() => v.bans.includes(evilId), 'the liar banned');
  assert.deepEqual(v.bans, [evilId], 'only the liar, once');
  assert.equal(evil.link.isClosed, true, 'its link is closed');
  assert.ok(v.stats.rejectedSegments >= 1);

  for (const x of vs) x.swarm.onPlaylist(slow(seq));
  const got = await Promise.all(vs.map((x) => x.swarm.get(url(seq), seq, 20_000)));
  got.forEach((r, i) => {
    assert.ok(r.hit, `${ids[i]}: ${JSON.stringify(r)}`);
    assert.deepEqual(r.bytes, bytes, `${ids[i]} plays the right bytes`);
  });
  for (const x of vs.slice(1)) assert.deepEqual(x.bans, [], `${x.id} banned nobody`);
  assert.deepEqual(v.bans, [evilId]);
});

/**
 * A liar pushes a wrong piece of the next segment before `w` lists it (no hash list yet: held),
 * in a stripe `w` heads (`inHeaded`) or not. Returns the origin log.
 */
async function heldLie(inHeaded: boolean): Promise<{ w: TestViewer; origin: string[]; start: number; end: number }> {
  const origin: string[] = [];
  const ids = ['w', 'g1', 'g2', 'g3'];
  const vs = ids.map((id) => viewer(id, { origin, env: { feedFits: () => true } }));
  const w = vs[0]!;
  for (let i = 0; i < vs.length; i++) for (let j = i + 1; j < vs.length; j++) connect(vs[i]!, vs[j]!);
  const evilId = liarId(ids);
  const evil = rawPeer(w, evilId);
  evil.send(hello);
  await until(() => evil.link.isReady && vs.every((x) => [...x.swarm.links.values()].filter((l) => l.isReady).length >= 3), 'links ready');
  for (const x of vs) x.swarm.onPlaylist(slow(10));
  const seq = 11;
  const bytes = segBytes(seq);
  const mine = w.swarm.trees.headStripes();
  let piece = 0;
  while (piece < PIECES && ((mine & (1 << stripeOf(piece, PIECES))) !== 0) !== inHeaded) piece++;
  assert.ok(piece < PIECES, `w heads ${mine.toString(2)}: a piece ${inHeaded ? 'in' : 'outside'} its stripes`);
  const start = piece * PIECE;
  const end = Math.min(SEG, start + PIECE);
  const wrong = bytes.slice(start, end).map((b) => b ^ 1);
  evil.send(encodePeerMessage({ type: 'push', reqId: PUSH_ID_BASE + 7, id: url(seq), seq, bytes: SEG, piece }));
  evil.send(encodeFrame(PUSH_ID_BASE + 7, SEG, start, wrong));
  await sleep(30);
  assert.deepEqual(w.bans, [], 'no list yet: the piece is held, not judged');
  for (const x of vs) x.swarm.onPlaylist(slow(seq));
  // w heads stripes of seg 11: the publisher's list comes with them, and the held piece is checked against it.
  await until(() => w.bans.includes(evilId), 'the liar banned once the list came');
  assert.ok(w.stats.rejectedSegments >= 1, 'banned for a bad piece, not a protocol violation');
  const got = await Promise.all(vs.map((x) => x.swarm.get(url(seq), seq, 20_000)));
  got.forEach((r, i) => {
    assert.ok(r.hit, `${ids[i]}: ${JSON.stringify(r)}`);
    assert.deepEqual(r.bytes, bytes, `${ids[i]} plays the right bytes`);
  });
  assert.deepEqual(w.bans, [evilId]);
  for (const x of vs.slice(1)) assert.deepEqual(x.bans, []);
  return { w, origin: origin.filter((o) => o.includes(` ${url(seq)} `)), start, end };
}

test('a lying push that arrives before the hash list is held, and its sender banned once the list comes', async () => {
  await heldLie(false);
});

test('a lying push held for a stripe the page heads does not stop the head fetching that piece from the origin', async () => {
  const { w, origin, start, end } = await heldLie(true);
  const covered = origin.some((o) => {
    const [who, , r] = o.split(' ');
    const [a, b] = r!.split('-').map(Number);
    return who === 'w' && a! <= start && end - 1 <= b!;
  });
  assert.ok(covered, `w fetched the piece the liar spoiled (${start}-${end - 1}): ${origin.join(', ')}`);
  assert.equal(w.stats.filledSegments, 0, 'no deadline fill was needed');
});

test('sub for a stripe this page cannot feed is answered feed ok:false; one it heads, with room, ok:true', async () => {
  let room = true;
  const v = viewer('host', { env: { feedFits: () => room } });
  const kid = rawPeer(v, 'kid');
  kid.send(hello);
  await until(() => kid.link.isReady, 'ready');
  // Before any playlist the trees are off: every sub is refused.
  kid.send(encodePeerMessage({ type: 'sub', s: 3, on: true }));
  await until(() => feeds(kid.got).length === 1, 'an answer');
  assert.deepEqual(feeds(kid.got), [{ s: 3, ok: false }]);

  v.swarm.onPlaylist(playlist(10));
  const heads = v.swarm.trees.headStripes();
  assert.notEqual(heads, 0, 'host heads some stripes');
  const home = homeStripe('host');
  const cannot = Array.from({ length: STRIPES }, (_, s) => s).filter((s) => (heads & (1 << s)) === 0 && s !== home);
  const can = Array.from({ length: STRIPES }, (_, s) => s).filter((s) => (heads & (1 << s)) !== 0);
  assert.ok(cannot.length > 0 && can.length > 0, `heads ${heads.toString(2)}, home ${home}`);
  kid.got.length = 0;
  for (const s of cannot) kid.send(encodePeerMessage({ type: 'sub', s, on: true, interior: true }));
  await until(() => feeds(kid.got).length === cannot.length, 'answers to every sub');
  assert.deepEqual(feeds(kid.got), cannot.map((s) => ({ s, ok: false })), 'neither head nor home stripe: no feed to give');
  if ((heads & (1 << home)) === 0) {
    // Its home stripe it relays, but it has no parent there itself yet: nothing to pass on.
    kid.got.length = 0;
    kid.send(encodePeerMessage({ type: 'sub', s: home, on: true }));
    await until(() => feeds(kid.got).length === 1, 'an answer for the home stripe');
    assert.deepEqual(feeds(kid.got), [{ s: home, ok: false }]);
  }

  kid.got.length = 0;
  kid.send(encodePeerMessage({ type: 'sub', s: can[0]!, on: true }));
  await until(() => feeds(kid.got).length === 1, 'an answer');
  assert.deepEqual(feeds(kid.got), [{ s: can[0]!, ok: true }]);
  assert.ok(v.swarm.trees.children.has(kid.link, can[0]!), 'the kid is a child in that stripe');
  // Asked again: the same grant.
  kid.send(encodePeerMessage({ type: 'sub', s: can[0]!, on: true }));
  await until(() => feeds(kid.got).length === 2, 'a second answer');
  assert.deepEqual(feeds(kid.got)[1], { s: can[0]!, ok: true });

  // No room left: a leaf is refused.
  room = false;
  if (can.length > 1) {
    kid.send(encodePeerMessage({ type: 'sub', s: can[1]!, on: true }));
    await until(() => feeds(kid.got).length === 3, 'a third answer');
    assert.deepEqual(feeds(kid.got)[2], { s: can[1]!, ok: false }, 'the uplink has no room for another leaf');
  }
  // Unsubscribing frees the slot, with no answer.
  const answers = feeds(kid.got).length;
  kid.send(encodePeerMessage({ type: 'sub', s: can[0]!, on: false }));
  await until(() => v.swarm.trees.children.count === 0, 'the child left');
  await sleep(20);
  assert.equal(feeds(kid.got).length, answers);
});

test('with the uplink full, a peer that relays the stripe takes the place of a leaf, which is told feed ok:false', async () => {
  let room = true;
  const v = viewer('host', { env: { feedFits: () => room } });
  v.swarm.onPlaylist(playlist(10));
  // Two raw peers; members change the heads, so pick a stripe once both are linked.
  const leaf = rawPeer(v, 'leafy');
  leaf.send(hello);
  const relayIds = Array.from({ length: 200 }, (_, k) => `relay${k}`);
  const heads0 = (): number => v.swarm.trees.headStripes();
  await until(() => leaf.link.isReady, 'leaf ready');
  // A stripe the host heads, and a relay peer whose home stripe it is (it relays that stripe onward).
  let relayId: string | undefined;
  let s = -1;
  for (const id of relayIds) {
    const mask = stripeHeads(['host', 'leafy', id], SWARM, 1).reduce((m, h, k) => (h.includes('host') ? m | (1 << k) : m), 0);
    const hs = homeStripe(id);
    if ((mask & (1 << hs)) !== 0 && homeStripe('leafy') !== hs) {
      relayId = id;
      s = hs;
      break;
    }
  }
  assert.ok(relayId !== undefined, 'found a relay id');
  const relay = rawPeer(v, relayId);
  relay.send(hello);
  await until(() => relay.link.isReady && (heads0() & (1 << s)) !== 0, 'relay ready and host heads the stripe');

  leaf.send(encodePeerMessage({ type: 'sub', s, on: true }));
  await until(() => feeds(leaf.got).length === 1, 'leaf answered');
  assert.deepEqual(feeds(leaf.got), [{ s, ok: true }]);
  room = false;
  // Without the interior claim the relay is just another leaf: refused.
  relay.send(encodePeerMessage({ type: 'sub', s, on: true }));
  await until(() => feeds(relay.got).length === 1, 'relay answered');
  assert.deepEqual(feeds(relay.got), [{ s, ok: false }]);
  relay.send(encodePeerMessage({ type: 'sub', s, on: true, interior: true }));
  await until(() => feeds(relay.got).length === 2 && feeds(leaf.got).length === 2, 'relay admitted, leaf let go');
  assert.deepEqual(feeds(relay.got)[1], { s, ok: true });
  assert.deepEqual(feeds(leaf.got)[1], { s, ok: false }, 'the leaf gave its place');
  assert.equal(v.swarm.trees.children.count, 1);
});

test('peer protocol: tree, sub and feed messages round-trip', () => {
  const ok: PeerMessage[] = [
    { type: 'tree', depth: [0, -1, 1, 2, 3, 4, 5, MAX_FEED_DEPTH], need: 0, up: true },
    { type: 'tree', depth: Array.from({ length: STRIPES }, () => -1), need: 0xff, up: false },
    { type: 'sub', s: 0, on: true },
    { type: 'sub', s: STRIPES - 1, on: true, interior: true },
    { type: 'sub', s: 4, on: false },
    { type: 'feed', s: 0, ok: true },
    { type: 'feed', s: STRIPES - 1, ok: false },
    { type: 'push', reqId: PUSH_ID_BASE, id: 'http://x/a.ts', seq: 3, bytes: 150_000, piece: 11 },
    { type: 'push', reqId: 0xffff_ffff, id: 'http://x/a.ts', seq: 0, bytes: 1, piece: 0 },
  ];
  for (const m of ok) assert.deepEqual(parsePeerMessage(encodePeerMessage(m)), { ok: true, value: m });
});

test('peer protocol: out-of-range stripes, wrong types and bad depth arrays are rejected', () => {
  const depth8 = (d: unknown = -1): unknown[] => Array.from({ length: STRIPES }, () => d);
  const bad: unknown[] = [
    // sub
    { type: 'sub', s: -1, on: true },
    { type: 'sub', s: STRIPES, on: true },
    { type: 'sub', s: 1.5, on: true },
    { type: 'sub', s: '1', on: true },
    { type: 'sub', on: true },
    { type: 'sub', s: 1 },
    { type: 'sub', s: 1, on: 'yes' },
    { type: 'sub', s: 1, on: 1 },
    { type: 'sub', s: 1, on: true, interior: false },
    { type: 'sub', s: 1, on: true, interior: 'yes' },
    // feed
    { type: 'feed', s: -1, ok: true },
    { type: 'feed', s: STRIPES, ok: true },
    { type: 'feed', s: 0, ok: 'true' },
    { type: 'feed', s: null, ok: true },
    { type: 'feed', ok: false },
    // tree
    { type: 'tree', depth: depth8().slice(1), need: 0, up: true },
    { type: 'tree', depth: [...depth8(), -1], need: 0, up: true },
    { type: 'tree', depth: Array.from({ length: 10_000 }, () => -1), need: 0, up: true },
    { type: 'tree', depth: [], need: 0, up: true },
    { type: 'tree', depth: depth8(-2), need: 0, up: true },
    { type: 'tree', depth: depth8(MAX_FEED_DEPTH + 1), need: 0, up: true },
    { type: 'tree', depth: depth8(0.5), need: 0, up: true },
    { type: 'tree', depth: depth8('0'), need: 0, up: true },
    { type: 'tree', depth: depth8(null), need: 0, up: true },
    { type: 'tree', depth: 'x'.repeat(STRIPES), need: 0, up: true },
    { type: 'tree', depth: { length: STRIPES }, need: 0, up: true },
    { type: 'tree', depth: depth8(), need: 256, up: true },
    { type: 'tree', depth: depth8(), need: -1, up: true },
    { type: 'tree', depth: depth8(), need: 1.5, up: true },
    { type: 'tree', depth: depth8(), up: true },
    { type: 'tree', depth: depth8(), need: 0, up: 1 },
    { type: 'tree', depth: depth8(), need: 0 },
    // push
    { type: 'push', reqId: PUSH_ID_BASE - 1, id: 'a', seq: 1, bytes: 10, piece: 0 },
    { type: 'push', reqId: 0x1_0000_0000, id: 'a', seq: 1, bytes: 10, piece: 0 },
    { type: 'push', reqId: PUSH_ID_BASE, id: 'a', seq: -1, bytes: 10, piece: 0 },
    { type: 'push', reqId: PUSH_ID_BASE, id: 'a', seq: 1, bytes: 0, piece: 0 },
    { type: 'push', reqId: PUSH_ID_BASE, id: 'a', seq: 1, bytes: LIMITS.segmentBytes + 1, piece: 0 },
    { type: 'push', reqId: PUSH_ID_BASE, id: 'a', seq: 1, bytes: 10, piece: -1 },
    { type: 'push', reqId: PUSH_ID_BASE, id: 'has space', seq: 1, bytes: 10, piece: 0 },
    { type: 'push', reqId: PUSH_ID_BASE, id: 'a', bytes: 10, piece: 0 },
  ];
  for (const m of bad) assert.equal(parsePeerMessage(JSON.stringify(m)).ok, false, JSON.stringify(m).slice(0, 100));
});

test('a peer sending a malformed tree or sub is disconnected and banned', async () => {
  for (const msg of [
    { type: 'sub', s: STRIPES, on: true },
    { type: 'tree', depth: [0, 0, 0], need: 0, up: true },
    { type: 'feed', s: -1, ok: true },
  ]) {
    const v = viewer('v');
    v.swarm.onPlaylist(playlist(1));
    const bad = rawPeer(v, 'bad');
    bad.send(hello);
    await until(() => bad.link.isReady, 'ready');
    bad.send(JSON.stringify(msg));
    await until(() => bad.link.isClosed, `closed after ${JSON.stringify(msg)}`);
    assert.deepEqual(v.bans, ['bad']);
    assert.equal(v.swarm.links.size, 0);
  }
});
