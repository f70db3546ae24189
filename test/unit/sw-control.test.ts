import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readControl } from '../../sw/control.js';
import { toPage } from '../../sw/learn.js';

const PL = 'https://site.test/live/demo/media_0.m3u8';
const SHA = 'A'.repeat(43);
const ROOT = 'B'.repeat(43);

test('X-Relaycast-Hashes: <uri>=<sha256>:<pieceRoot>, the piece root optional, a bad one drops the entry', () => {
  const c = readControl(new Headers({ 'X-Relaycast-Hashes': `a.m4s=${SHA}:${ROOT}, b.m4s=${SHA}, c.m4s=${SHA}:short, d.m4s=${SHA}:${ROOT}:${ROOT}` }), PL);
  assert.deepEqual(Object.fromEntries(c.hashes), {
    'https://site.test/live/demo/a.m4s': { sha256: SHA, pieceRoot: ROOT },
    'https://site.test/live/demo/b.m4s': { sha256: SHA },
  });
  const seg = { id: 'x', url: 'https://site.test/live/demo/a.m4s', seq: 1, durationSec: 2, swarm: PL, live: true };
  assert.deepEqual(toPage(seg, c), { id: 'x', url: seg.url, seq: 1, durationSec: 2, sha256: SHA, pieceRoot: ROOT }, 'the page gets both');
  assert.deepEqual(toPage({ ...seg, url: 'https://site.test/live/demo/b.m4s' }, c), { id: 'x', url: 'https://site.test/live/demo/b.m4s', seq: 1, durationSec: 2, sha256: SHA });
});

test('X-Relaycast-Hashes entries naming another origin are ignored: a manifest speaks only for its own origin', () => {
  const c = readControl(
    new Headers({
      'X-Relaycast-Hashes': [
        `https://victim.test/live/seg_1.m4s=${SHA}:${ROOT}`,
        `//victim.test/live/seg_2.m4s=${SHA}`,
        `http://site.test/live/seg_3.m4s=${SHA}`,
        `https://site.test:8443/live/seg_4.m4s=${SHA}`,
        `https://site.test/other/seg_5.m4s=${SHA}`,
        `seg_6.m4s=${SHA}`,
      ].join(','),
    }),
    PL,
  );
  assert.deepEqual([...c.hashes.keys()], ['https://site.test/other/seg_5.m4s', 'https://site.test/live/demo/seg_6.m4s']);
});
