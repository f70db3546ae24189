import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readControl } from '../../sw/control.js';
import { parsePlaylist } from '../../sw/manifest/hls-playlist.js';

const PL = 'http://origin.test/live/demo/index.m3u8';
const SHA = 'A'.repeat(43);

test('control headers: kill switch, integrity and hashes', () => {
  const c = readControl(
    new Headers({
      'X-Relaycast-P2P': 'unregister',
      'X-Relaycast-Integrity': 'sha256',
      'X-Relaycast-Hashes': `seg_1.ts=${SHA}, /abs/seg_2.ts=${SHA},bad=short,=${SHA},javascript:x=${SHA}`,
    }),
    PL,
  );
  assert.equal(c.p2p, 'unregister');
  assert.equal(c.integrity, true);
  assert.deepEqual([...c.hashes.keys()], ['http://origin.test/live/demo/seg_1.ts', 'http://origin.test/abs/seg_2.ts']);
  const none = readControl(new Headers(), PL);
  assert.deepEqual([none.p2p, none.integrity, none.hashes.size], ['on', false, 0]);
  assert.equal(readControl(new Headers({ 'X-Relaycast-P2P': 'whatever' }), PL).p2p, 'on');
});

test('property: control header and playlist parsers never throw on arbitrary input', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 2000 }), fc.string({ maxLength: 200 }), (hashes, mode) => {
      let h: Headers;
      try {
        h = new Headers({ 'X-Relaycast-Hashes': hashes, 'X-Relaycast-P2P': mode });
      } catch {
        return; // not a valid header value at all: the browser would not deliver it
      }
      const c = readControl(h, PL);
      assert.ok(['on', 'off', 'unregister'].includes(c.p2p));
      assert.ok(c.hashes.size <= 256);
    }),
  );
  const line = fc.oneof(
    fc.constantFrom('#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXTINF:2,', '#EXT-X-MEDIA-SEQUENCE:5', '#EXT-X-BYTERANGE:10@0', '#EXT-X-ENDLIST', '#EXT-X-STREAM-INF:BANDWIDTH=1', '#EXT-X-MAP:URI="i.mp4"', 'seg.ts', ''),
    fc.string({ maxLength: 40 }),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 60 }), (lines) => {
      const r = parsePlaylist(['#EXTM3U', ...lines].join('\n'), PL);
      if (r.ok && r.value.kind === 'media') for (const s of r.value.segments) assert.ok(s.url.startsWith('http'));
    }),
    { numRuns: 500 },
  );
});
