import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { liveArgs, listedSegments, vodArgs } from '../../origin-adapter/ffmpeg-args.js';
import { resolveOptions } from '../../origin-adapter/config.js';
import { contentTypeOf, isAcceptablePlayerSrc, isSafeFileName, mediaKind, parseMediaPath } from '../../origin-adapter/paths.js';
import { jsonForScript, renderPlayerPage } from '../../origin-adapter/player-page.js';
import { endToEndHeaders, upstreamUrl } from '../../origin-adapter/proxy.js';
import { parseRange } from '../../origin-adapter/serve-file.js';

test('live paths: only safe names, no traversal', () => {
  assert.deepEqual(parseMediaPath('/live/demo/seg_000001.ts'), { kind: 'live', stream: 'demo', file: 'seg_000001.ts' });
  assert.deepEqual(parseMediaPath('/vod/demo/vod-0.mp4'), { kind: 'vod', stream: 'demo', file: 'vod-0.mp4' });
  assert.equal(parseMediaPath('/other/demo/vod-0.mp4'), undefined);
  for (const p of ['/live/demo/../x', '/live/../demo/index.m3u8', '/live/demo/a/b.ts', '/live/demo/%2e%2e%2fetc', '/live/demo/.hidden',
    '/live/demo/', '/live//x.ts', '/live/demo/a\\b.ts', '/live/demo/a b.ts', '/live/demo/..']) {
    assert.equal(parseMediaPath(p), undefined, p);
  }
  fc.assert(
    fc.property(fc.string(), (s) => {
      if (isSafeFileName(s)) assert.match(s, /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/);
    }),
  );
});

test('media kinds and content types', () => {
  assert.equal(mediaKind('/a/b/seg.ts'), 'segment');
  assert.equal(mediaKind('/x.M4S'), 'segment');
  assert.equal(mediaKind('/x.m3u8'), 'playlist');
  assert.equal(mediaKind('/x.mpd'), 'playlist');
  assert.equal(mediaKind('/x.html'), 'other');
  assert.equal(mediaKind('/dir.ts/x'), 'other');
  assert.equal(contentTypeOf('index.m3u8'), 'application/vnd.apple.mpegurl');
  assert.equal(contentTypeOf('a.ts'), 'video/mp2t');
  assert.equal(contentTypeOf('a.m4s'), 'video/mp4');
  assert.equal(contentTypeOf('a.mp4'), 'video/mp4');
});

test('player src: paths and http(s) URLs only, safely embedded', () => {
  for (const ok of ['/a/b.m3u8', 'http://x/y.m3u8', 'https://cdn.example/live.m3u8?token=1']) assert.ok(isAcceptablePlayerSrc(ok), ok);
  for (const bad of ['', 'a.m3u8', '//evil/x', 'javascript:alert(1)', 'data:text/plain,x', 'ftp://x/y', '/a\nb', '/a\\b']) {
    assert.ok(!isAcceptablePlayerSrc(bad), bad);
  }
  const hostile = '/x</script><script>alert(1)</script>\u2028';
  const html = renderPlayerPage({ src: hostile, title: '<b>', relaycast: true, player: 'hls.js', protocol: 'hls' });
  assert.ok(!html.includes('</script><script>alert'));
  assert.ok(html.includes('&lt;b&gt;'));
  assert.equal(JSON.parse(jsonForScript(hostile)), hostile);
  assert.ok(html.includes('<script src="/relaycast/relaycast.js"></script>'));
  assert.ok(!renderPlayerPage({ src: '/a.m3u8', title: 't', relaycast: false, player: 'hls.js', protocol: 'hls' }).includes('/relaycast/relaycast.js'));
});

test('range parsing', () => {
  assert.equal(parseRange(undefined, 10), undefined);
  assert.deepEqual(parseRange('bytes=0-3', 10), { start: 0, end: 3 });
  assert.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
  assert.deepEqual(parseRange('bytes=-4', 10), { start: 6, end: 9 });
  assert.deepEqual(parseRange('bytes=2-100', 10), { start: 2, end: 9 });
  assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-1,3-4', 10), undefined);
  assert.equal(parseRange('items=0-1', 10), undefined);
});

test('range parsing per RFC 9110: last < first is invalid (ignored, not 416); the unit is case-insensitive', () => {
  assert.equal(parseRange('bytes=100-50', 1000), undefined, 'a syntactically invalid range is ignored: the full 200');
  assert.equal(parseRange('bytes=9-1', 10), undefined);
  assert.deepEqual(parseRange('Bytes=0-3', 10), { start: 0, end: 3 });
  assert.deepEqual(parseRange('BYTES=-4', 10), { start: 6, end: 9 });
  assert.equal(parseRange('bytes=-0', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=20-30', 10), 'unsatisfiable');
});

test('proxy helpers: hop-by-hop headers dropped, base path kept', () => {
  const h = endToEndHeaders({ connection: 'keep-alive, x-secret', 'x-secret': '1', 'keep-alive': 'timeout=5', range: 'bytes=0-1', host: 'a', 'transfer-encoding': 'chunked' });
  assert.deepEqual(h, { range: 'bytes=0-1' });
  assert.equal(upstreamUrl('http://u:81/base/', '/live/a.m3u8?x=1').href, 'http://u:81/base/live/a.m3u8?x=1');
  assert.equal(upstreamUrl('https://u', '/a.ts').href, 'https://u/a.ts');
});

test('ffmpeg args: one dash muxer run publishes DASH and HLS over the same segments, one rung per rendition', () => {
  const args = liveArgs({ dir: '/tmp/d', segmentSec: 4, windowSegments: 8, renditions: 3, epoch: 2 });
  const at = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(at('-g'), '100');
  assert.equal(at('-keyint_min'), '100');
  assert.equal(at('-seg_duration'), '4');
  assert.equal(at('-window_size'), '8');
  assert.equal(at('-hls_playlist'), '1');
  assert.equal(at('-media_seg_name'), 'chunk-e2-$RepresentationID$-$Number%06d$.m4s');
  assert.equal(args.filter((a) => a === '-map').length, 4, 'three video rungs and audio');
  assert.match(String(at('-filter_complex')), /split=3.*scale=640:360/);
  assert.equal(args.at(-1), '/tmp/d/stream.mpd');
  const one = liveArgs({ dir: '/tmp/d', segmentSec: 2, windowSegments: 6, renditions: 1, epoch: 0 });
  assert.equal(one.filter((a) => a === '-map').length, 2);
  const vod = vodArgs({ dir: '/tmp/v', segmentSec: 2, durationSec: 30 });
  assert.equal(vod[vod.indexOf('-single_file') + 1], '1');
  assert.match(vod.join(' '), /duration=30/);
  assert.doesNotMatch(one.join(' '), /filler|minrate/, 'the ladder is not CBR');
  assert.deepEqual(listedSegments('#EXTM3U\n#EXTINF:2,\nchunk-e0-0-000003.m4s\n#EXTINF:2,\nchunk-e0-0-000004.m4s\nother.m4s\n'), [
    'chunk-e0-0-000003.m4s',
    'chunk-e0-0-000004.m4s',
  ]);
});

test('ffmpeg args: --bitrate-kbps is x264 CBR with filler at that rate, on the one 320x180 rendition', () => {
  const args = liveArgs({ dir: '/tmp/d', segmentSec: 2, windowSegments: 6, renditions: 1, epoch: 0, bitrateKbps: 3000 });
  const at = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(at('-b:v:0'), '3000k');
  assert.equal(at('-minrate:v:0'), '3000k');
  assert.equal(at('-maxrate:v:0'), '3000k');
  assert.equal(at('-bufsize:v:0'), '1500k');
  assert.equal(at('-x264-params:v:0'), 'nal-hrd=cbr:filler=1');
  assert.equal(args.filter((a) => a.startsWith('-b:v')).length, 1, 'no ladder rate besides');
  assert.match(String(at('-filter_complex')), /scale=320:180/);
  assert.equal(at('-c:v'), 'libx264');
  assert.equal(at('-f'), 'lavfi');
  assert.equal(args[args.lastIndexOf('-f') + 1], 'dash', 'still one dash muxer run (DASH + fMP4 HLS)');
  // The adapter's options: an integer in range, one rendition only.
  assert.equal(resolveOptions({ bitrateKbps: 3000 }).bitrateKbps, 3000);
  assert.equal(resolveOptions({}).bitrateKbps, undefined);
  assert.throws(() => resolveOptions({ bitrateKbps: 3000, renditions: 2 }), /renditions 1/);
  assert.throws(() => resolveOptions({ bitrateKbps: 10 }), /bitrateKbps/);
  assert.throws(() => resolveOptions({ bitrateKbps: 1.5e3 + 0.5 }), /bitrateKbps/);
});
