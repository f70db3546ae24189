import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admitLink, EVICT_INTERVAL_MS, EVICT_MIN_AGE_MS, freeLinks, isFullMesh, onIncoming, peersToDial, pickEviction, type DialState, type Incoming } from '../../client/transport/link-policy.js';

const dialState = (over: Partial<DialState> = {}): DialState => ({
  self: 'm',
  swarmSize: 100,
  maxPeers: 4,
  links: 0,
  dialing: 0,
  linked: () => false,
  isDialing: () => false,
  banned: () => false,
  ...over,
});

test('full mesh: only the smaller id dials, up to maxPeers links', () => {
  assert.ok(isFullMesh(5, 4));
  assert.ok(!isFullMesh(6, 4));
  const s = dialState({ swarmSize: 5 });
  assert.deepEqual(peersToDial(['a', 'z', 'm', 'b', 'y', 'x'], s), ['z', 'y', 'x'], 'larger ids only, never self');
  assert.deepEqual(peersToDial(['z', 'y', 'x'], { ...s, links: 3 }), ['z'], 'room for one more link');
});

test('large swarm: dials listed peers in both directions, as far as free slots go', () => {
  const s = dialState({ linked: (id) => id === 'b', isDialing: (id) => id === 'c', banned: (id) => id === 'd', links: 1, dialing: 1 });
  assert.equal(freeLinks(s), 2);
  assert.deepEqual(peersToDial(['a', 'b', 'c', 'd', 'e', 'z', 'y'], s), ['a', 'e'], 'smaller ids too; linked, dialing, banned skipped; 2 free slots');
  assert.deepEqual(peersToDial(['a'], { ...s, links: 3 }), [], 'dials in progress count as taken slots');
  assert.equal(freeLinks({ maxPeers: 4, links: 5, dialing: 0 }), 0);
});

const incoming = (over: Partial<Incoming> = {}): Incoming => ({
  self: 'm',
  remote: 'r',
  outgoing: false,
  swarmSize: 100,
  maxPeers: 4,
  links: 0,
  banned: false,
  existingOutgoing: undefined,
  nowMs: 100_000,
  lastEvictionMs: -Infinity,
  ...over,
});

test('two connections between a pair: both pages keep the one the smaller id dialed', () => {
  // Pages 'a' and 'b' dialed each other at once; each page attaches the two connections in either order.
  const dialer = (page: string, remote: string, outgoing: boolean): string => (outgoing ? page : remote);
  for (const page of ['a', 'b']) {
    const remote = page === 'a' ? 'b' : 'a';
    for (const ownFirst of [true, false]) {
      const [oldOutgoing, newOutgoing] = ownFirst ? [true, false] : [false, true];
      const d = onIncoming(incoming({ self: page, remote, outgoing: newOutgoing, existingOutgoing: oldOutgoing }));
      assert.notEqual(d, 'accept');
      const kept = d === 'replace' ? newOutgoing : oldOutgoing;
      assert.equal(dialer(page, remote, kept), 'a', `page ${page} keeps a's dial (own dial first: ${ownFirst})`);
    }
  }
  assert.equal(onIncoming(incoming({ existingOutgoing: false, outgoing: false, links: 4 })), 'replace', 'a redial from the same dialer replaces, even when full');
  assert.equal(onIncoming(incoming({ banned: true })), 'refuse');
});

test('a full page evicts for a dial in a large swarm, at most once per interval; never in a full mesh', () => {
  assert.equal(onIncoming(incoming({ links: 3 })), 'accept');
  assert.equal(onIncoming(incoming({ links: 4 })), 'evict');
  assert.equal(onIncoming(incoming({ links: 4, lastEvictionMs: 100_000 - EVICT_INTERVAL_MS + 1 })), 'refuse', 'rate limited');
  assert.equal(onIncoming(incoming({ links: 4, swarmSize: 5 })), 'refuse', 'full mesh: unchanged');
  assert.equal(onIncoming(incoming({ links: 4, outgoing: true })), 'refuse', 'own dials never evict');
});

test('eviction picks an idle, settled link, and admitLink closes it', () => {
  const now = 100_000;
  const closed: string[] = [];
  const link = (peerId: string, o: { up?: number; pulls?: number; age?: number; ready?: boolean } = {}) => ({
    peerId,
    outgoing: false,
    isReady: o.ready ?? true,
    activeUploads: o.up ?? 0,
    activePulls: o.pulls ?? 0,
    openedAtMs: now - (o.age ?? EVICT_MIN_AGE_MS),
    close: (reason: string) => closed.push(`${peerId} ${reason}`),
  });
  const busy = [link('up', { up: 1 }), link('pull', { pulls: 1 }), link('young', { age: EVICT_MIN_AGE_MS - 1 }), link('opening', { ready: false })];
  assert.equal(pickEviction(busy, now), undefined, 'nothing idle: no eviction');
  const links = new Map([...busy, link('idle')].map((l) => [l.peerId, l]));
  assert.equal(pickEviction(links.values(), now), 'idle');
  const state = { lastEvictionMs: -Infinity };
  const args = { self: 'm', remote: 'new', outgoing: false, swarmSize: 100, maxPeers: 5, banned: false, nowMs: now, links, state };
  assert.equal(admitLink(args), true);
  assert.deepEqual(closed, ['idle evicted']);
  assert.equal(state.lastEvictionMs, now);
  assert.equal(admitLink(args), false, 'the next dial within the interval is refused');
  links.delete('idle');
  assert.equal(admitLink({ ...args, links: new Map(busy.map((l) => [l.peerId, l])), maxPeers: 4, state: { lastEvictionMs: -Infinity } }), false, 'no idle link: refused');
});
