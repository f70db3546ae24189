import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTracker, trackerConfig, type TrackerConfig } from '../../origin-adapter/tracker.js';
import type { TrackerAnnounce } from '../../protocol/tracker.js';

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const ann = (peerId: string, swarm = 's', uploads = true): TrackerAnnounce => ({ type: 'announce', swarm, peerId, uploads });

function makeTracker(over: Partial<TrackerConfig> = {}) {
  const clock = fakeClock();
  const tracker = createTracker({ ...trackerConfig({ announceIntervalMs: 1000, p2p: true }, clock.now), ...over });
  return { clock, tracker };
}

describe('seeders ranked by confirmed rates', () => {
  const rated = (peerId: string, uploadBytesPerSec: number, received?: { peer: string; bytesPerSec: number }[]): TrackerAnnounce => ({
    ...ann(peerId), freeLinks: 0, uploadBytesPerSec, ...(received ? { received } : {}),
  });
  const run = (announces: [TrackerAnnounce, string][]) => {
    const { tracker, clock } = makeTracker();
    for (const [a, addr] of announces) tracker.announce(a, addr);
    clock.advance(1000);
    for (const [a, addr] of announces) tracker.announce(a, addr);
    return tracker.announce(...(announces[0] ?? [ann('x'), 'x'])).answer.seeders;
  };

  test('15 ids claiming 10 Gbit/s with nobody confirming them do not become the seeders', () => {
    const honest: [TrackerAnnounce, string][] = Array.from({ length: 85 }, (_, i) => [rated(`h${i}`, 100_000 + i * 1000), `10.0.0.${i}`]);
    const fakes: [TrackerAnnounce, string][] = Array.from({ length: 15 }, (_, i) => [rated(`fake${i}`, 1_250_000_000), '192.0.2.1']);
    const seeders = run([...honest, ...fakes]);
    assert.equal(seeders.length, 5);
    assert.deepEqual(seeders.filter((s) => s.startsWith('fake')), [], `seeders ${seeders.join(',')}`);
  });

  test('fakes confirming each other from one address do not count; confirmations from other pages do', () => {
    const honest: [TrackerAnnounce, string][] = Array.from({ length: 80 }, (_, i) => [rated(`h${i}`, 100_000), `10.0.1.${i}`]);
    const fakes: [TrackerAnnounce, string][] = Array.from({ length: 15 }, (_, i) => [
      rated(`fake${i}`, 1_250_000_000, [{ peer: `fake${(i + 1) % 15}`, bytesPerSec: 1_250_000_000 }]),
      '192.0.2.1',
    ]);
    // h79 really uploads fast: three viewers elsewhere say they received 150 kB/s from it.
    honest[79] = [rated('h79', 400_000), '10.0.1.79'];
    for (const k of [10, 11, 12]) honest[k] = [rated(`h${k}`, 100_000, [{ peer: 'h79', bytesPerSec: 150_000 }]), `10.0.1.${k}`];
    const seeders = run([...honest, ...fakes]);
    assert.deepEqual(seeders.filter((s) => s.startsWith('fake')), []);
    assert.ok(seeders.includes('h79'), `the confirmed fast uploader is a seeder: ${seeders.join(',')}`);
  });
});

