import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { hashEntry, pieceRoot, segmentHash, streamHasher } from '../../origin-adapter/integrity.js';
import { PIECE_BYTES } from '../../protocol/pieces.js';

// Expected values computed independently (Python hashlib):
//   leaf i = sha256(piece i); root = base64url(sha256(leaf0 || leaf1 || ...)), no padding.
test('piece root: hand-computed values (two pieces, one piece, empty)', () => {
  assert.equal(PIECE_BYTES, 32768);
  const two = Buffer.concat([Buffer.alloc(32768, 'a'), Buffer.from('abc')]);
  assert.equal(pieceRoot(two), 'PWjzy-R8Ou5Ndm26DD5xNG9np6iO3zUqmQrn3wKOl9Y');
  assert.equal(segmentHash(two).sha256, 'MGT5tYy7bUc-8oAtcZebpwuOmi2zkcFpy_EH91S8qiQ');
  assert.equal(pieceRoot(Buffer.from('abc')), 'T4tCwi3TcptRm6b2jS2nzFstYG0F2u1a1RKMwD5sY1g');
  assert.equal(pieceRoot(new Uint8Array(0)), 'Xfbg4nYTWdMKgnUFjimfzAOBU0VF9Vz0PkGYP11MlFY');
});

test('streamed hashing equals whole-buffer hashing, whatever the chunking', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 3 * 1024 }), fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 20 }), (size, cuts) => {
      const bytes = Buffer.alloc(size, 0).map((_, i) => (i * 31) & 0xff);
      const h = streamHasher(1024);
      let off = 0;
      for (const c of cuts) {
        h.update(bytes.subarray(off, Math.min(size, off + c)));
        off = Math.min(size, off + c);
      }
      h.update(bytes.subarray(off));
      assert.deepEqual(h.digest(), segmentHash(bytes, 1024));
      assert.equal(h.bytes, size);
    }),
    { numRuns: 200 },
  );
});

test('header entry format: <uri>=<sha256>:<pieceRoot>', () => {
  const h = segmentHash(Buffer.from('abc'));
  assert.equal(hashEntry('seg.m4s', h), `seg.m4s=${h.sha256}:${h.pieceRoot}`);
});
