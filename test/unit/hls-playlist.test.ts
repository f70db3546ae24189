import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePlaylist } from '../../sw/manifest/hls-playlist.js';

const BASE = 'http://example.test/live/demo/index.m3u8';

test('media playlist: segments, sequence numbers, durations, absolute URLs', () => {
  const text = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-TARGETDURATION:2',
    '#EXT-X-MEDIA-SEQUENCE:41',
    '#EXTINF:2.000000,',
    'seg_000041.ts',
    '#EXTINF:1.960,',
    '/other/seg_000042.ts?token=abc',
    '',
  ].join('\n');
  const r = parsePlaylist(text, BASE);
  assert.ok(r.ok);
  assert.equal(r.value.kind, 'media');
  if (r.value.kind !== 'media') return;
  assert.equal(r.value.targetDurationSec, 2);
  assert.equal(r.value.live, true);
  assert.deepEqual(
    r.value.segments.map((s) => [s.url, s.seq, s.durationSec]),
    [
      ['http://example.test/live/demo/seg_000041.ts', 41, 2],
      ['http://example.test/other/seg_000042.ts?token=abc', 42, 1.96],
    ],
  );
});

test('ignoreQuery drops tokens from ids but never mixes paths', () => {
  const text = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts?t=1\n#EXTINF:2,\nb.ts?t=1\n';
  const r = parsePlaylist(text, BASE, { ignoreQuery: true });
  assert.ok(r.ok && r.value.kind === 'media');
  if (!r.ok || r.value.kind !== 'media') return;
  assert.equal(r.value.segments[0]?.id, 'http://example.test/live/demo/a.ts');
  assert.notEqual(r.value.segments[0]?.id, r.value.segments[1]?.id);
});

test('VOD playlists end with EXT-X-ENDLIST', () => {
  const r = parsePlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n', BASE);
  assert.ok(r.ok && r.value.kind === 'media' && r.value.live === false);
});

test('master playlist: variants and alternate renditions', () => {
  const text = [
    '#EXTM3U',
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/en.m3u8"',
    '#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x180,CODECS="avc1.64000d,mp4a.40.2"',
    'index.m3u8',
    '#EXT-X-STREAM-INF:BANDWIDTH=800000',
    'http://cdn.test/hi.m3u8',
  ].join('\n');
  const r = parsePlaylist(text, BASE);
  assert.ok(r.ok);
  assert.deepEqual(r.ok && r.value.kind === 'master' ? r.value.variants : [], [
    'http://example.test/live/demo/audio/en.m3u8',
    'http://example.test/live/demo/index.m3u8',
    'http://cdn.test/hi.m3u8',
  ]);
});

test('byte ranges and init segments (EXT-X-BYTERANGE, EXT-X-MAP)', () => {
  const text = [
    '#EXTM3U',
    '#EXT-X-TARGETDURATION:2',
    '#EXT-X-MAP:URI="main.mp4",BYTERANGE="720@0"',
    '#EXTINF:2,',
    '#EXT-X-BYTERANGE:1000@720',
    'main.mp4',
    '#EXTINF:2,',
    '#EXT-X-BYTERANGE:500',
    'main.mp4',
  ].join('\n');
  const r = parsePlaylist(text, BASE);
  assert.ok(r.ok && r.value.kind === 'media');
  if (!r.ok || r.value.kind !== 'media') return;
  assert.deepEqual(r.value.inits[0]?.range, { start: 0, end: 719 });
  assert.deepEqual(r.value.segments.map((s) => s.range), [{ start: 720, end: 1719 }, { start: 1720, end: 2219 }]);
  assert.notEqual(r.value.segments[0]?.id, r.value.segments[1]?.id);
});

test('hostile or broken playlists are rejected with a reason, never thrown', () => {
  const bad = [
    '',
    'not a playlist',
    '#EXTM3U\n#EXTINF:2,\na.ts\n', // no target duration
    '#EXTM3U\n#EXT-X-TARGETDURATION:2\na.ts\n', // URI without EXTINF
    '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:abc,\na.ts\n',
    '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:-5\n',
    '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\njavascript:alert(1)\n',
    '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n#EXT-X-BYTERANGE:10\na.ts\n', // no offset, no predecessor
    '#EXTM3U\n' + '#EXT-X-TARGETDURATION:2\n' + 'x'.repeat(5 * 1024 * 1024),
  ];
  for (const t of bad) {
    const r = parsePlaylist(t, BASE);
    assert.equal(r.ok, false, `accepted: ${t.slice(0, 60)}`);
  }
});
