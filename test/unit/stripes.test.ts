import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { stripeHeads } from '../../client/swarm/rendezvous.js';
import { ALL_STRIPES, hash32, homeStripe, STRIPES, stripeOf, stripePieces } from '../../protocol/stripes.js';
import { Rng } from '../../sim/rng.js';

const SWARM_KEY = 'http://origin.test/live/index.m3u8';

/** A seeded PRNG (the simulator's), so scenarios are reproducible. */
function prng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('constants: eight stripes, ALL_STRIPES has one bit per stripe', () => {
  assert.equal(STRIPES, 8);
  assert.equal(ALL_STRIPES, 0xff);
});

test('stripePieces partitions every piece count 1..200 into contiguous runs, each piece exactly once, in stripe order', () => {
  for (let n = 1; n <= 200; n++) {
    const seen = new Array<number>(n).fill(0);
    let next = 0;
    let nonEmpty = 0;
    const sizes: number[] = [];
    for (let s = 0; s < STRIPES; s++) {
      const span = stripePieces(s, n);
      if (span === undefined) continue;
      nonEmpty++;
      assert.ok(span.first <= span.last, `n=${n} s=${s}: first ${span.first} <= last ${span.last}`);
      assert.equal(span.first, next, `n=${n} s=${s}: starts where the previous stripe ended`);
      for (let i = span.first; i <= span.last; i++) seen[i]!++;
      sizes.push(span.last - span.first + 1);
      next = span.last + 1;
    }
    assert.equal(next, n, `n=${n}: the runs end at the last piece`);
    assert.ok(seen.every((c) => c === 1), `n=${n}: every piece in exactly one stripe`);
    assert.equal(nonEmpty, Math.min(n, STRIPES), `n=${n}: as many non-empty stripes as min(pieces, stripes)`);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `n=${n}: stripes differ by at most one piece (${sizes.join(',')})`);
  }
});

test('stripeOf agrees with stripePieces and never decreases along the segment', () => {
  for (let n = 1; n <= 200; n++) {
    let prev = 0;
    for (let i = 0; i < n; i++) {
      const s = stripeOf(i, n);
      assert.ok(Number.isInteger(s) && s >= 0 && s < STRIPES, `n=${n} piece ${i}: stripe ${s} in range`);
      assert.ok(s >= prev, `n=${n} piece ${i}: stripe ${s} after ${prev}`);
      prev = s;
      const span = stripePieces(s, n);
      assert.ok(span && span.first <= i && i <= span.last, `n=${n}: piece ${i} lies in the span of its stripe ${s}: ${JSON.stringify(span)}`);
    }
    for (let s = 0; s < STRIPES; s++) {
      const span = stripePieces(s, n);
      if (span) for (let i = span.first; i <= span.last; i++) assert.equal(stripeOf(i, n), s, `n=${n} piece ${i}`);
    }
  }
});

test('stripe 0 starts at piece 0 and stripe 7 ends at the last piece', () => {
  for (const n of [8, 9, 12, 15, 16, 100, 2560]) {
    assert.equal(stripePieces(0, n)?.first, 0);
    assert.equal(stripePieces(STRIPES - 1, n)?.last, n - 1);
    assert.equal(stripeOf(0, n), 0);
    assert.equal(stripeOf(n - 1, n), STRIPES - 1);
  }
});

test('hash32 is a deterministic unsigned 32-bit value', () => {
  for (const s of ['', 'a', 'peer-1', 'x'.repeat(1000), '\u00e9\u4e2d']) {
    const h = hash32(s);
    assert.equal(h, hash32(s));
    assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffff_ffff, `${h}`);
  }
  assert.notEqual(hash32('peer-1'), hash32('peer-2'));
});

test('homeStripe is deterministic and spreads 8000 random ids evenly (each stripe within ±25 % of 1000)', () => {
  const ids = Array.from({ length: 8000 }, () => randomUUID());
  const counts = new Array<number>(STRIPES).fill(0);
  for (const id of ids) {
    const s = homeStripe(id);
    assert.ok(Number.isInteger(s) && s >= 0 && s < STRIPES);
    assert.equal(homeStripe(id), s, 'same id, same stripe');
    counts[s]!++;
  }
  for (const c of counts) assert.ok(c >= 750 && c <= 1250, `counts ${counts.join(',')}`);
});

test('homeStripe spreads similar (sequential) ids evenly too', () => {
  const counts = new Array<number>(STRIPES).fill(0);
  for (let i = 0; i < 8000; i++) counts[homeStripe(`peer-${i}`)]!++;
  for (const c of counts) assert.ok(c >= 750 && c <= 1250, `counts ${counts.join(',')}`);
});

/** Member sets of 1..12 peers under a few swarm keys. */
function cases(): { members: string[]; key: string }[] {
  const out: { members: string[]; key: string }[] = [];
  for (let n = 1; n <= 12; n++) {
    for (let k = 0; k < 12; k++) out.push({ members: Array.from({ length: n }, (_, i) => `peer-${k}-${i}`), key: `${SWARM_KEY}?k=${k}` });
  }
  return out;
}

test('stripeHeads: the same answer every time and for any order (or duplicates) of the member list', () => {
  const random = prng(7);
  for (const { members, key } of cases()) {
    for (const per of [1, 2, 3]) {
      const h = stripeHeads(members, key, per);
      assert.equal(h.length, STRIPES);
      assert.deepEqual(stripeHeads(members, key, per), h, 'deterministic');
      for (let r = 0; r < 3; r++) assert.deepEqual(stripeHeads(shuffled(members, random), key, per), h, 'order of members does not matter');
      assert.deepEqual(stripeHeads([...members, ...members], key, per), h, 'duplicates do not matter');
    }
  }
});

test('stripeHeads: no member heads more than ceil(8 x per / members) stripes (one more where the fill under that cap gets stuck), and heads of a stripe are distinct members', () => {
  for (const { members, key } of cases()) {
    for (const per of [1, 2, 3, 4]) {
      const h = stripeHeads(members, key, per);
      const p = Math.min(per, members.length);
      const cap = Math.ceil((STRIPES * p) / members.length);
      const load = new Map<string, number>();
      for (const heads of h) {
        assert.equal(new Set(heads).size, heads.length, `distinct heads: ${JSON.stringify(h)}`);
        for (const m of heads) {
          assert.ok(members.includes(m), `${m} is a member`);
          load.set(m, (load.get(m) ?? 0) + 1);
        }
      }
      for (const [m, n] of load) assert.ok(n <= cap + 1, `${m} heads ${n} stripes > cap ${cap} + 1 (members ${members.length}, per ${per}): ${JSON.stringify(h)}`);
      if (per === 1) for (const [m, n] of load) assert.ok(n <= cap, `one head per stripe always fits the cap: ${m} heads ${n}`);
    }
  }
});

test('stripeHeads with one head per stripe: every stripe has exactly one', () => {
  for (const { members, key } of cases()) {
    const h = stripeHeads(members, key, 1);
    for (const heads of h) assert.equal(heads.length, 1, `${members.length} members: ${JSON.stringify(h)}`);
  }
});

test('stripeHeads: no members or perStripe < 1 gives eight empty lists', () => {
  assert.deepEqual(stripeHeads([], SWARM_KEY, 2), Array.from({ length: STRIPES }, () => []));
  assert.deepEqual(stripeHeads(['a', 'b'], SWARM_KEY, 0), Array.from({ length: STRIPES }, () => []));
});

test(
  'stripeHeads: every stripe gets min(perStripe, members) heads',
  {},
  () => {
    assert.equal(stripeHeads(['p1', 'p2', 'p3'], 's34', 2)[7]!.length, 2, 'the smallest known counterexample');
    for (const { members, key } of cases()) {
      for (const per of [2, 3, 4]) {
        const h = stripeHeads(members, key, per);
        const want = Math.min(per, members.length);
        for (let s = 0; s < STRIPES; s++) assert.equal(h[s]!.length, want, `members ${members.length}, per ${per}, key ${key}, stripe ${s}: ${JSON.stringify(h)}`);
      }
    }
  },
);
