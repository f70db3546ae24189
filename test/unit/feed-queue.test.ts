import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FEED_STALE_MS, FeedQueue, type FeedJob } from '../../client/swarm/feed-queue.js';
import type { PeerLink } from '../../client/transport/peer-link.js';

/** What FeedQueue reads of a link: whether it is closed and whether the peer holds a piece. */
interface FakeLink {
  name: string;
  isClosed: boolean;
  held: Set<string>;
  hasPiece(id: string, piece: number): boolean;
}

function fakeLink(name: string): FakeLink {
  const l: FakeLink = {
    name,
    isClosed: false,
    held: new Set(),
    hasPiece: (id, piece) => l.held.has(`${id}|${piece}`),
  };
  return l;
}
const asLink = (l: FakeLink): PeerLink => l as unknown as PeerLink;

let nextTag = 0;
type Job = FeedJob & { readonly tag: number };

function job(link: FakeLink, o: { seq?: number; piece?: number; stripe?: number; interior?: boolean; at?: number; segmentId?: string } = {}): Job {
  const seq = o.seq ?? 1;
  return {
    tag: nextTag++,
    link: asLink(link),
    segmentId: o.segmentId ?? `seg_${seq}.ts`,
    seq,
    piece: o.piece ?? 0,
    stripe: o.stripe ?? 0,
    interior: o.interior ?? false,
    queuedAtMs: o.at ?? 0,
    source: () => ({ bytes: new Uint8Array(1), total: 1 }),
    list: () => undefined,
  };
}

/** Takes everything at `now`, returning the tags in order. */
function drain(q: FeedQueue, now: number): number[] {
  const out: number[] = [];
  for (let j = q.take(now); j; j = q.take(now)) out.push((j as Job).tag);
  return out;
}

test('take order: interior (relaying) children first, then the lower seq, then first queued', () => {
  const l = fakeLink('a');
  const jobs = [
    job(l, { seq: 5, interior: false, at: 0, piece: 1 }), // 0
    job(l, { seq: 7, interior: true, at: 10, piece: 2 }), // 1
    job(l, { seq: 6, interior: true, at: 20, piece: 3 }), // 2
    job(l, { seq: 4, interior: false, at: 30, piece: 4 }), // 3
    job(l, { seq: 6, interior: true, at: 5, piece: 5 }), // 4
    job(l, { seq: 4, interior: false, at: 25, piece: 6 }), // 5
  ];
  const want = [jobs[4]!, jobs[2]!, jobs[1]!, jobs[5]!, jobs[3]!, jobs[0]!].map((j) => j.tag);
  // Whatever order they were added in.
  for (const order of [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [3, 0, 5, 1, 4, 2]]) {
    const q = new FeedQueue();
    for (const i of order) q.add(jobs[i]!);
    assert.equal(q.size, 6);
    assert.deepEqual(drain(q, 100), want, `added in order ${order.join(',')}`);
    assert.equal(q.size, 0);
    assert.equal(q.take(100), undefined);
  }
});

test('equal interior and seq: strictly first queued first (FIFO), across links', () => {
  const a = fakeLink('a');
  const b = fakeLink('b');
  const q = new FeedQueue();
  const jobs = [job(b, { at: 30, piece: 1 }), job(a, { at: 10, piece: 2 }), job(b, { at: 20, piece: 3 }), job(a, { at: 40, piece: 4 })];
  for (const j of jobs) q.add(j);
  assert.deepEqual(drain(q, 100), [jobs[1]!, jobs[2]!, jobs[0]!, jobs[3]!].map((j) => j.tag));
});

test('a job older than FEED_STALE_MS is dropped on take, one exactly that old is still sent', () => {
  const l = fakeLink('a');
  const q = new FeedQueue();
  const edge = job(l, { at: 1000, piece: 1 });
  q.add(edge);
  assert.equal(q.take(1000 + FEED_STALE_MS)?.piece, 1, 'at the limit: still worth sending');

  const stale = job(l, { at: 1000, piece: 2, interior: true, seq: 0 });
  const fresh = job(l, { at: 2000, piece: 3, seq: 9 });
  q.add(stale);
  q.add(fresh);
  // The stale one would go first by interior and seq, but it is too late.
  assert.equal(q.take(1001 + FEED_STALE_MS)?.piece, 3);
  assert.equal(q.size, 0, 'the stale job left the queue, not just skipped');
  assert.equal(q.take(1001 + FEED_STALE_MS), undefined);
});

test('jobs for closed links and for pieces the peer already has are dropped on take', () => {
  const closed = fakeLink('closed');
  const has = fakeLink('has');
  const ok = fakeLink('ok');
  const q = new FeedQueue();
  q.add(job(closed, { interior: true, seq: 1, piece: 1, at: 0 }));
  q.add(job(has, { interior: true, seq: 1, piece: 2, at: 0, segmentId: 'x' }));
  q.add(job(has, { interior: false, seq: 9, piece: 3, at: 0, segmentId: 'x' }));
  q.add(job(ok, { interior: false, seq: 9, piece: 4, at: 50 }));
  closed.isClosed = true;
  has.held.add('x|2');
  assert.equal(q.size, 4);
  const first = q.take(100);
  assert.equal(first?.piece, 3, 'the interior ones are gone; among leaves the older goes first');
  assert.equal(q.size, 1, 'the closed link\'s job and the piece the peer has were removed');
  assert.equal(q.take(100)?.piece, 4);
  assert.equal(q.take(100), undefined);
});

test('at 512 jobs, adding one drops the oldest queued (not the first added)', () => {
  const l = fakeLink('a');
  const q = new FeedQueue();
  q.add(job(l, { at: 500, piece: 1 })); // first added, but queued later than most
  for (let i = 0; i < 511; i++) q.add(job(l, { at: i, piece: 10 + i }));
  q.add(job(l, { at: 600, piece: 9999 }));
  assert.equal(q.size, 512, 'capped');
  assert.equal(q.backlogMs(1000), 999, 'the oldest (queued at 0) was dropped: the oldest left was queued at 1');
  const pieces = new Set<number>();
  for (let j = q.take(1000); j; j = q.take(1000)) pieces.add(j.piece);
  assert.equal(pieces.size, 512);
  assert.ok(!pieces.has(10), 'the job queued at 0 is gone');
  assert.ok(pieces.has(1), 'the first added, queued later, is kept');
  assert.ok(pieces.has(9999), 'the new job is kept');
});

test('the cap drops one job per add beyond 512, always the oldest', () => {
  const l = fakeLink('a');
  const q = new FeedQueue();
  for (let i = 0; i < 600; i++) q.add(job(l, { at: i, piece: i }));
  assert.equal(q.size, 512);
  assert.equal(q.backlogMs(1000), 1000 - 88, 'jobs queued at 0..87 were dropped');
  const order: number[] = [];
  for (let j = q.take(1000); j; j = q.take(1000)) order.push(j.piece);
  assert.deepEqual(order, Array.from({ length: 512 }, (_, i) => 88 + i));
});

test('backlogMs: 0 when empty, the wait of the oldest job otherwise, closed links not counted', () => {
  const a = fakeLink('a');
  const b = fakeLink('b');
  const q = new FeedQueue();
  assert.equal(q.backlogMs(5000), 0);
  q.add(job(b, { at: 100, piece: 1 }));
  q.add(job(a, { at: 300, piece: 2 }));
  q.add(job(a, { at: 700, piece: 3 }));
  assert.equal(q.backlogMs(1000), 900);
  b.isClosed = true;
  assert.equal(q.backlogMs(1000), 700, 'a closed link\'s job is no backlog');
  assert.equal(q.take(1000)?.piece, 2);
  assert.equal(q.backlogMs(1000), 300);
  q.clear();
  assert.equal(q.size, 0);
  assert.equal(q.backlogMs(1000), 0);
});

test('dropLink removes every job of that link; with `keep`, only those it rejects', () => {
  const a = fakeLink('a');
  const b = fakeLink('b');
  const q = new FeedQueue();
  for (let s = 0; s < 4; s++) {
    q.add(job(a, { stripe: s, piece: s, at: s }));
    q.add(job(a, { stripe: s, piece: 10 + s, at: 10 + s }));
    q.add(job(b, { stripe: s, piece: 20 + s, at: 20 + s }));
  }
  assert.equal(q.size, 12);
  // Link a no longer fed stripe 2: its stripe-2 jobs go, the rest stay.
  q.dropLink(asLink(a), (j) => j.stripe !== 2);
  assert.equal(q.size, 10);
  let left: FeedJob[] = [];
  for (let j = q.take(50); j; j = q.take(50)) left.push(j);
  assert.deepEqual(
    left.filter((j) => j.link === asLink(a)).map((j) => j.piece).sort((x, y) => x - y),
    [0, 1, 3, 10, 11, 13],
  );
  assert.equal(left.filter((j) => j.link === asLink(b)).length, 4, 'other links untouched');

  for (const j of left) q.add(j);
  q.dropLink(asLink(a));
  left = [];
  for (let j = q.take(50); j; j = q.take(50)) left.push(j);
  assert.deepEqual(left.map((j) => j.piece).sort((x, y) => x - y), [20, 21, 22, 23], 'without keep: every job of a is gone, b\'s remain');
});
