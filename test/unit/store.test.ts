import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SegmentStore } from '../../client/storage/store.js';

const seg = (seq: number, size = 10) => ({ id: `s${seq}`, seq, bytes: new Uint8Array(size), source: 'origin' as const, hop: 0 });

test('keeps only the live window behind the newest segment', () => {
  const s = new SegmentStore({ maxBytes: 1e9, keepSegments: 3 });
  for (let i = 0; i < 10; i++) s.put(seg(i));
  assert.deepEqual(s.list().map((x) => x.seq).sort((a, b) => a - b), [6, 7, 8, 9]);
  assert.equal(s.put(seg(2)), false, 'a segment older than the window is refused');
  s.advance(20);
  assert.equal(s.size, 0, 'advancing the playlist evicts what fell out of the window');
});

test('never holds more than maxBytes; evicts the oldest first', () => {
  const s = new SegmentStore({ maxBytes: 100, keepSegments: 1000 });
  for (let i = 0; i < 50; i++) {
    s.put(seg(i, 30));
    assert.ok(s.bytes <= 100);
  }
  assert.deepEqual(s.list().map((x) => x.seq), [47, 48, 49]);
  assert.equal(s.put(seg(99, 101)), false, 'a segment larger than the cap is refused');
});

test('replacing a segment does not double-count bytes', () => {
  const s = new SegmentStore({ maxBytes: 100, keepSegments: 10 });
  s.put(seg(1, 40));
  s.put(seg(1, 40));
  assert.equal(s.bytes, 40);
});
