import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTracker, trackerConfig, type TrackerConfig } from '../../origin-adapter/tracker.js';
import { homeStripe, MAX_FEED_DEPTH, STRIPES } from '../../protocol/stripes.js';
import { MAX_TREE_ROOM, PARENTS_PER_STRIPE, parseTrackerAnnounce, parseTrackerPeers, type TrackerAnnounce, type TreeReport } from '../../protocol/tracker.js';
import { Rng } from '../../sim/rng.js';

const SWARM = 'http://origin.test/live/index.m3u8';

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/**
 * A deterministic "random" for the tracker: the golden-ratio sequence. Any 8 consecutive values
 * leave no gap wider than 0.146, so each draw of 8 (4 x PARENTS_PER_STRIPE) hits every member
 * of a set of up to 6: which candidates are drawn is then known.
 */
function golden(): () => number {
  let i = 0;
  return () => (++i * 0.6180339887498949) % 1;
}

/** A seeded PRNG (the simulator's), so scenarios are reproducible. */
function prng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

function makeTracker(over: Partial<TrackerConfig> = {}) {
  const clock = fakeClock();
  const tracker = createTracker({ ...trackerConfig({ announceIntervalMs: 1000, p2p: true }, clock.now, golden()), ...over });
  return { clock, tracker };
}

/** Depths: -1 everywhere except the stripes given. */
const depths = (at: Record<number, number> = {}): number[] => Array.from({ length: STRIPES }, (_, s) => at[s] ?? -1);

const ann = (peerId: string, o: { uploads?: boolean; tree?: TreeReport } = {}): TrackerAnnounce => ({
  type: 'announce',
  swarm: SWARM,
  peerId,
  uploads: o.uploads ?? true,
  ...(o.tree ? { tree: o.tree } : {}),
});

/** An id whose home stripe is `s` (and, with `not`, not that one). */
function idWithHome(prefix: string, s: number): string {
  for (let k = 0; ; k++) if (homeStripe(`${prefix}${k}`) === s) return `${prefix}${k}`;
}
function idNotHome(prefix: string, s: number): string {
  for (let k = 0; ; k++) if (homeStripe(`${prefix}${k}`) !== s) return `${prefix}${k}`;
}

/** Peers a swarm must have for the tracker to list parents: more than one full-mesh answer (peersPerAnswer + 1). */
const LARGE = trackerConfig({ announceIntervalMs: 1000, p2p: true }).peersPerAnswer + 2;

/** Enough plain peers (no tree) that the swarm is "large" whatever else is in it. */
function crowd(tracker: ReturnType<typeof createTracker>, n = LARGE): void {
  for (let i = 0; i < n; i++) tracker.announce(ann(`plain${i}`));
}

test('a small swarm (one mesh) gets no parent lists', () => {
  const { tracker } = makeTracker();
  for (let i = 0; i < LARGE - 3; i++) tracker.announce(ann(`r${i}`, { tree: { depth: depths({ 0: 0, 1: 1 }), room: 4 } }));
  const a = tracker.announce(ann('asker')).answer;
  assert.equal(a.parents, undefined);
});

test('a large swarm: parents per stripe, only peers that relay the stripe with room, shallowest first, valid on the wire', () => {
  const { tracker } = makeTracker();
  crowd(tracker);
  tracker.announce(ann('deep', { tree: { depth: depths({ 2: 3 }), room: 10 } }));
  tracker.announce(ann('top', { tree: { depth: depths({ 2: 0, 5: 4 }), room: 10 } }));
  tracker.announce(ann('mid', { tree: { depth: depths({ 2: 1 }), room: 10 } }));
  tracker.announce(ann('full', { tree: { depth: depths({ 2: 0, 6: 0 }), room: 0 } }));
  tracker.announce(ann('mute', { uploads: false, tree: { depth: depths({ 2: 0, 6: 0 }), room: 10 } }));
  const asker = idNotHome('asker', 2);
  const a = tracker.announce(ann(asker, { uploads: false })).answer;
  assert.ok(a.parents, 'large swarm: parents listed');
  assert.equal(a.parents.length, STRIPES);
  assert.deepEqual(a.parents[2], ['top', 'mid'], 'the two shallowest with room; not the full one, not the one that does not upload');
  assert.deepEqual(a.parents[5], ['top']);
  assert.deepEqual(a.parents[6], [], 'only a full peer and a non-uploader relay stripe 6');
  for (const s of [0, 1, 3, 4, 7]) assert.deepEqual(a.parents[s], [], `nobody relays stripe ${s}`);
  const wire = parseTrackerPeers(JSON.parse(JSON.stringify(a)));
  assert.ok(wire.ok, 'the answer parses on the page');
  assert.deepEqual(wire.value.parents, a.parents);
});

test('never the asker itself, even when it is the only one with room', () => {
  const { tracker } = makeTracker();
  crowd(tracker);
  const me = idNotHome('me', 4);
  tracker.announce(ann(me, { tree: { depth: depths({ 4: 0 }), room: 8 } }));
  const a = tracker.announce(ann(me, { tree: { depth: depths({ 4: 0 }), room: 8 } })).answer;
  assert.deepEqual(a.parents?.[4], []);
  tracker.announce(ann('other', { tree: { depth: depths({ 4: 2 }), room: 8 } }));
  assert.deepEqual(tracker.announce(ann(me, { tree: { depth: depths({ 4: 0 }), room: 8 } })).answer.parents?.[4], ['other']);
});

test('each handout takes one child slot: a peer with room 1 is handed out once (over all stripes) until it announces again', () => {
  const { tracker } = makeTracker();
  crowd(tracker);
  const one = { depth: depths({ 1: 0, 3: 0 }), room: 1 };
  tracker.announce(ann('one', { tree: one }));
  const x = idNotHome('x', 1);
  const first = tracker.announce(ann(x, { uploads: false })).answer.parents!;
  assert.deepEqual(first[1], ['one']);
  assert.deepEqual(first[3], [], 'its one slot went to stripe 1 of the same answer');
  const second = tracker.announce(ann('y', { uploads: false })).answer.parents!;
  assert.deepEqual([second[1], second[3]], [[], []], 'no room left');
  tracker.announce(ann('one', { tree: one })); // it announces again: its room is as it says
  const third = tracker.announce(ann('z', { uploads: false })).answer.parents!;
  assert.deepEqual(third[1], ['one']);
});

test('room 3 is handed out three times, then no more', () => {
  const { tracker } = makeTracker();
  crowd(tracker);
  tracker.announce(ann('three', { tree: { depth: depths({ 7: 1 }), room: 3 } }));
  const got = ['a', 'b', 'c', 'd', 'e'].map((id) => tracker.announce(ann(id, { uploads: false })).answer.parents![7]!);
  assert.deepEqual(got, [['three'], ['three'], ['three'], [], []]);
});

test('a page whose home stripe it is also gets full relays (it takes a leaf\'s place); other pages do not', () => {
  const { tracker } = makeTracker();
  crowd(tracker);
  tracker.announce(ann('full', { tree: { depth: depths({ 3: 0, 5: 0 }), room: 0 } }));
  const home3 = idWithHome('h', 3);
  const p = tracker.announce(ann(home3)).answer.parents!;
  assert.deepEqual(p[3], ['full'], 'an uploading page gets full relays of its home stripe');
  assert.deepEqual(p[5], [], 'but not of other stripes');
  const mute = tracker.announce(ann(idWithHome('m', 3), { uploads: false })).answer.parents!;
  assert.deepEqual(mute[3], [], 'a page that does not upload relays nothing: no exception for it');
  const other = tracker.announce(ann(idNotHome('o', 3))).answer.parents!;
  assert.deepEqual(other[3], []);
});

test('stale peers, peers that stopped uploading or dropped their tree are no longer parents', () => {
  const { tracker, clock } = makeTracker();
  crowd(tracker);
  const tree = { depth: depths({ 0: 0 }), room: 50 };
  tracker.announce(ann('stale', { tree }));
  tracker.announce(ann('quits', { tree }));
  tracker.announce(ann('drops', { tree }));
  const before = tracker.announce(ann('q1', { uploads: false })).answer.parents![0]!;
  assert.equal(before.length, 2);
  for (const id of before) assert.ok(['stale', 'quits', 'drops'].includes(id));
  clock.advance(2000);
  crowd(tracker); // the crowd stays fresh
  tracker.announce(ann('quits', { uploads: false, tree }));
  tracker.announce(ann('drops'));
  clock.advance(1500); // 'stale' was last seen 3500 ms ago > 3 announce intervals
  crowd(tracker);
  const fresh = { depth: depths({ 0: 2 }), room: 50 };
  tracker.announce(ann('fresh', { tree: fresh }));
  // 'stale' (depth 0) would come before 'fresh' (depth 2) if it were still handed out.
  for (let i = 0; i < 5; i++) assert.deepEqual(tracker.announce(ann(`late${i}`, { uploads: false })).answer.parents![0], ['fresh']);
});

test('kill switch: no parent lists while p2p is off', () => {
  const { tracker } = makeTracker();
  crowd(tracker);
  tracker.announce(ann('r', { tree: { depth: depths({ 0: 0 }), room: 5 } }));
  tracker.setP2P(false);
  assert.equal(tracker.announce(ann('x')).answer.parents, undefined);
});

interface Model {
  uploads: boolean;
  tree: { depth: number[]; room: number } | undefined;
}

test('property: over many announces, every parent list obeys the rule, and the rooms handed out match the reports', () => {
  const rnd = prng(2026);
  let handed = 0;
  let fullHome = 0;
  let exact = 0;
  for (let round = 0; round < 6; round++) {
    const { tracker } = makeTracker();
    const model = new Map<string, Model>();
    /** `self` announces `m`; its answer is checked against the model, and the model takes the slots handed out. */
    const step = (self: string, m: Model): void => {
      model.set(self, { uploads: m.uploads, tree: m.tree ? { depth: [...m.tree.depth], room: m.tree.room } : undefined });
      const tree = m.tree ? { tree: { depth: [...m.tree.depth], room: m.tree.room } } : {};
      const parents: readonly (readonly string[])[] | undefined = tracker.announce(ann(self, { uploads: m.uploads, ...tree })).answer.parents;
      if (model.size < LARGE) {
        assert.equal(parents, undefined, 'small swarm: no parents');
        return;
      }
      assert.ok(parents !== undefined, 'large swarm');
      assert.equal(parents.length, STRIPES);
      const home = m.uploads ? homeStripe(self) : -1;
      for (let s = 0; s < STRIPES; s++) {
        const relays = (id: string): boolean => {
          const e = model.get(id)!;
          return e.uploads && e.tree !== undefined && e.tree.depth[s]! >= 0;
        };
        const inSet = [...model.keys()].filter((id) => relays(id) && (s === home || model.get(id)!.tree!.room > 0));
        const eligible = inSet.filter((id) => id !== self);
        const got: readonly string[] = parents[s]!;
        assert.ok(got.length <= PARENTS_PER_STRIPE, `stripe ${s}: at most ${PARENTS_PER_STRIPE}`);
        assert.equal(new Set(got).size, got.length, 'distinct');
        for (const id of got) {
          assert.notEqual(id, self, 'never the asker');
          assert.ok(eligible.includes(id), `stripe ${s}: ${id} relays it, uploads, and has room (or it is the asker's home stripe)`);
        }
        const ds = got.map((id) => model.get(id)!.tree!.depth[s]!);
        assert.deepEqual(ds, [...ds].sort((x, y) => x - y), `stripe ${s}: shallowest first`);
        if (inSet.length <= 6) {
          // Every member of the set was drawn: the answer is the shallowest eligible ones.
          const best = eligible.map((id) => model.get(id)!.tree!.depth[s]!).sort((x, y) => x - y).slice(0, PARENTS_PER_STRIPE);
          assert.deepEqual(ds, best, `stripe ${s}: the shallowest of ${eligible.length} eligible`);
          if (got.length > 0) exact++;
        }
        for (const id of got) {
          const t = model.get(id)!.tree!;
          handed++;
          if (t.room === 0) fullHome++;
          t.room = Math.max(0, t.room - 1);
        }
      }
    };
    const configs: [string, Model][] = [];
    for (let i = 0; i < LARGE + 20; i++) {
      const uploads = rnd() < 0.85;
      let tree: Model['tree'];
      if (rnd() < 0.4) {
        const at: Record<number, number> = {};
        const n = 1 + Math.floor(rnd() * 2);
        for (let k = 0; k < n; k++) at[Math.floor(rnd() * STRIPES)] = Math.floor(rnd() * (MAX_FEED_DEPTH + 1));
        tree = { depth: depths(at), room: Math.floor(rnd() * 4) };
      }
      configs.push([`peer${round}-${i}`, { uploads, tree }]);
    }
    for (const [id, m] of configs) step(id, m);
    for (let k = 0; k < 150; k++) {
      const [self, m] = configs[Math.floor(rnd() * configs.length)]!;
      step(self, m);
    }
  }
  // The scenarios are not vacuous: many handouts, some of full relays to a home-stripe asker, many fully checked.
  assert.ok(handed > 500 && fullHome > 50 && exact > 200, `handed ${handed}, full relays to their home stripe ${fullHome}, exact checks ${exact}`);
});

test('tree reports with bad fields are refused by the announce parser', () => {
  const base = { type: 'announce', swarm: SWARM, peerId: 'p', uploads: true };
  const good = { depth: depths({ 0: 0, 7: MAX_FEED_DEPTH }), room: MAX_TREE_ROOM };
  const parsed = parseTrackerAnnounce({ ...base, tree: good });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.tree, good);
  const bad: unknown[] = [
    null,
    'tree',
    [],
    { depth: depths(), room: -1 },
    { depth: depths(), room: MAX_TREE_ROOM + 1 },
    { depth: depths(), room: 1.5 },
    { depth: depths(), room: '3' },
    { depth: depths() },
    { room: 1 },
    { depth: depths().slice(0, STRIPES - 1), room: 1 },
    { depth: [...depths(), -1], room: 1 },
    { depth: [], room: 1 },
    { depth: depths({ 2: 0.5 }), room: 1 },
    { depth: depths({ 2: -2 }), room: 1 },
    { depth: depths({ 2: MAX_FEED_DEPTH + 1 }), room: 1 },
    { depth: depths({ 2: Number.NaN }), room: 1 },
    { depth: [...depths().slice(1), '0'], room: 1 },
    { depth: [...depths().slice(1), null], room: 1 },
    { depth: 'abcdefgh', room: 1 },
  ];
  for (const tree of bad) {
    const r = parseTrackerAnnounce({ ...base, tree });
    assert.equal(r.ok, false, `refused: ${JSON.stringify(tree)}`);
  }
  // Through JSON too, as the adapter receives it.
  assert.equal(parseTrackerAnnounce(JSON.parse(JSON.stringify({ ...base, tree: { depth: depths(), room: -1 } }))).ok, false);
});

test('a malformed tree handed to the tracker directly does not crash it and never makes a parent of a peer without room or a relayed stripe', () => {
  const { tracker } = makeTracker();
  crowd(tracker);
  const odd: unknown[] = [
    { depth: [0], room: 5 }, // too short: stripe 0 only
    { depth: depths({ 1: 0 }), room: -3 },
    { depth: depths({ 2: Number.NaN }), room: 5 },
    { depth: [], room: 5 },
    { depth: depths({ 3: 0 }), room: Number.NaN },
  ];
  odd.forEach((tree, i) => assert.doesNotThrow(() => tracker.announce({ ...ann(`odd${i}`), tree } as TrackerAnnounce)));
  for (let k = 0; k < 5; k++) {
    const p = tracker.announce(ann(idNotHome(`ask${k}-`, 1), { uploads: false })).answer.parents!;
    assert.ok(p.every((l) => l.length <= PARENTS_PER_STRIPE));
    assert.deepEqual(p[1], [], 'negative room: no child slots');
    assert.deepEqual(p[2], [], 'NaN depth: relays nothing');
    assert.deepEqual(p[3], [], 'NaN room: no child slots');
    for (let s = 4; s < STRIPES; s++) assert.deepEqual(p[s], []);
  }
  assert.doesNotThrow(() => tracker.prune());
});

test(
  'a parent\'s child slots are kept for pages that lack a feed: announces of pages that will not dial do not use them up',
  () => {
    const { tracker } = makeTracker();
    crowd(tracker);
    tracker.announce(ann('parent', { tree: { depth: depths({ 2: 0 }), room: 4 } }));
    // Ten pages that are fed in every stripe re-announce (they will dial nobody)...
    const fed = { depth: depths(), room: 0, need: 0 };
    for (let i = 0; i < 10; i++) assert.deepEqual(tracker.announce(ann(idNotHome(`fed${i}-`, 2), { uploads: false, tree: fed })).answer.parents, Array.from({ length: STRIPES }, () => []));
    // ...then a page that lacks stripe 2 asks: the parent still has all its 4 slots free.
    const needy = tracker.announce(ann(idNotHome('needy', 2), { uploads: false, tree: { depth: depths(), room: 0, need: 1 << 2 } })).answer.parents!;
    assert.deepEqual(needy[2], ['parent']);
    assert.ok(needy.every((l, s) => s === 2 || l.length === 0), 'only the stripe it lacks');
  },
);
