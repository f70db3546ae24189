import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Activity } from '../../sw/activity.js';
import { readWorkerConfig } from '../../sw/config.js';
import { readControl } from '../../sw/control.js';
import { contentRange, parseContentRangeTotal, parseRangeHeader } from '../../sw/ranges.js';
import { Registry, type KnownSegment } from '../../sw/registry.js';
import { ANY_HOST, normalizeUrl } from '../../protocol/segment-id.js';
import { parsePageToWorker, parseWorkerToPage } from '../../protocol/worker.js';
import { workerScriptUrl } from '../../client/config.js';

test('Range headers: only a single closed range is a segment; Content-Range as the origin states it', () => {
  assert.equal(parseRangeHeader(null), undefined);
  assert.deepEqual(parseRangeHeader('bytes=806-53152'), { start: 806, end: 53152 });
  assert.deepEqual(parseRangeHeader(' bytes = 0 - 0 '), { start: 0, end: 0 });
  for (const other of ['bytes=5-', 'bytes=-100', 'bytes=0-1,4-5', 'items=0-1', 'bytes=9-1', 'bytes=1e3-2000', '']) {
    assert.equal(parseRangeHeader(other), 'other', other);
  }
  assert.equal(parseContentRangeTotal('bytes 806-53152/634834'), 634834);
  assert.equal(parseContentRangeTotal('bytes 806-53152/*'), undefined);
  assert.equal(parseContentRangeTotal(null), undefined);
  assert.equal(contentRange({ start: 806, end: 53152 }, 634834), 'bytes 806-53152/634834');
  assert.equal(contentRange({ start: 806, end: 53152 }, undefined), 'bytes 806-53152/*');
  fc.assert(fc.property(fc.string(), (s) => void parseRangeHeader(s)));
});

const control = readControl(new Headers(), 'https://o.test/vod/a.m3u8');
const seg = (url: string, seq: number, range?: { start: number; end: number }): KnownSegment => ({
  id: range ? `${url}|${range.start}-${range.end}` : url,
  url,
  seq,
  durationSec: 2,
  swarm: 'https://o.test/vod/a.m3u8',
  live: false,
  ...(range ? { range } : {}),
});

test('registry: byte ranges of one file are distinct segments; VOD windows follow the list; totals kept', () => {
  const r = new Registry(100);
  const f = 'https://o.test/vod/v.mp4';
  const segs = [seg(f, 1, { start: 0, end: 99 }), seg(f, 2, { start: 100, end: 199 }), seg(f, 3, { start: 200, end: 299 }), seg(f, 4, { start: 300, end: 399 })];
  r.setSwarm('https://o.test/vod/a.m3u8', segs, { manifestUrl: 'https://o.test/vod/a.m3u8', live: false, targetDurationSec: 2, control });
  assert.equal(r.segment(f), undefined, 'the whole file is not a segment');
  assert.equal(r.segment(f, { start: 100, end: 199 })?.seq, 2);
  assert.equal(r.segment(f, { start: 100, end: 198 }), undefined, 'only exactly the listed range');
  const second = segs[1];
  assert.ok(second);
  assert.deepEqual(r.window(second, 2).map((s) => s.seq), [2, 3]);
  assert.deepEqual(r.tail('https://o.test/vod/a.m3u8', 1).map((s) => s.seq), [4]);
  assert.equal(r.meta('https://o.test/vod/a.m3u8')?.live, false);
  assert.equal(r.total(f), undefined);
  r.setTotal(f, 400);
  assert.equal(r.total(f), 400);
  assert.ok(r.isPlaylist('https://o.test/live/stream.mpd'));
  assert.ok(!r.isLearned('https://o.test/vod/a.m3u8'));
  r.markLearned('https://o.test/vod/a.m3u8');
  assert.ok(r.isLearned('https://o.test/vod/a.m3u8'));
  r.clearSegments();
  assert.equal(r.segment(f, { start: 100, end: 199 }), undefined);
  assert.ok(!r.isLearned('https://o.test/vod/a.m3u8'), 'after the kill switch, manifests are learned again when P2P comes back');
});

test('activity: a rendition is in use by a page from its first request until 30 s after its last', () => {
  let now = 0;
  const a = new Activity(() => now);
  assert.equal(a.isActive('c1', 's'), false);
  assert.equal(a.touch('c1', 's'), true);
  assert.equal(a.touch('c1', 's'), false);
  assert.equal(a.isActive('c2', 's'), false, 'per page');
  now = 30_001;
  assert.equal(a.isActive('c1', 's'), false);
  assert.equal(a.touch('c1', 's'), true);
});

test('segment identity: tokens and CDN hosts can be left out, content-selecting queries never', () => {
  const u = 'https://cdn1.example/live/720p/seg_1.m4s?token=abc&expires=9&rendition=720';
  assert.equal(normalizeUrl(u, undefined), u);
  assert.equal(normalizeUrl(u, undefined, { ignoreQuery: true }), 'https://cdn1.example/live/720p/seg_1.m4s');
  assert.equal(normalizeUrl(u, undefined, { ignoreQuery: false, ignoreParams: ['token', 'expires'] }), 'https://cdn1.example/live/720p/seg_1.m4s?rendition=720');
  assert.equal(
    normalizeUrl('https://o.test/a.ts?token=1', undefined, { ignoreQuery: false, ignoreParams: ['token'] }),
    'https://o.test/a.ts',
    'no dangling ?',
  );
  const a = normalizeUrl('https://cdn1.example/live/seg_1.m4s', undefined, { ignoreQuery: false, ignoreHost: true });
  const b = normalizeUrl('http://cdn2.example:8080/live/seg_1.m4s', undefined, { ignoreQuery: false, ignoreHost: true });
  assert.equal(a, `https://${ANY_HOST}/live/seg_1.m4s`);
  assert.equal(a, b, 'two CDNs, one segment');
  assert.notEqual(
    normalizeUrl('https://cdn1.example/other/seg_1.m4s', undefined, { ignoreQuery: false, ignoreHost: true }),
    a,
    'different paths stay different streams',
  );
});

test("worker config: from its script URL (start()) or a site worker's self.relaycastConfig; junk ignored", () => {
  const url = workerScriptUrl({ swUrl: '/relaycast/sw.js', ignoreQuery: ['token', 'exp'], ignoreHost: true }, 'https://site.test/watch');
  assert.equal(url, 'https://site.test/relaycast/sw.js?ignoreParams=token%2Cexp&ignoreHost=1');
  const c = readWorkerConfig(url);
  assert.deepEqual([c.ignoreQuery, c.ignoreParams, c.ignoreHost], [false, ['token', 'exp'], true]);
  assert.equal(readWorkerConfig(workerScriptUrl({ swUrl: '/sw.js', ignoreQuery: true, ignoreHost: false }, 'https://s.test/')).ignoreQuery, true);
  const g = readWorkerConfig('https://site.test/site-sw.js', { ignoreQuery: ['sig', 'bad name', 7], ignoreHost: true, maxPeerWaitMs: 2000 });
  assert.deepEqual([g.ignoreParams, g.ignoreHost, g.maxPeerWaitMs], [['sig'], true, 2000]);
  assert.equal(readWorkerConfig('https://s.test/sw.js', { maxPeerWaitMs: 1e9 }).maxPeerWaitMs, 6000);
  assert.equal(readWorkerConfig('https://s.test/sw.js', 'junk').ignoreHost, false);
});

test('worker/page messages: ranges and learn requests are bounded and checked', () => {
  const ok = parseWorkerToPage({
    type: 'rc-playlist', swarm: 's', targetDurationSec: 2, live: false, integrity: true,
    segments: [{ id: 'https://o.test/v.mp4|0-99', url: 'https://o.test/v.mp4', seq: 1, durationSec: 2, range: { start: 0, end: 99 } }],
  });
  assert.ok(ok.ok && ok.value.type === 'rc-playlist' && ok.value.segments[0]?.range?.end === 99);
  for (const range of [{ start: 5, end: 1 }, { start: -1, end: 3 }, { start: 0, end: 64 * 1024 * 1024 }, 'x']) {
    const bad = parseWorkerToPage({ type: 'rc-playlist', swarm: 's', targetDurationSec: 2, live: false, integrity: true, segments: [{ id: 'i', url: 'u', seq: 1, durationSec: 2, range }] });
    assert.equal(bad.ok, false, JSON.stringify(range));
  }
  const f = parsePageToWorker({ type: 'rc-origin-fetch', reqId: 1, url: 'https://o.test/v.mp4', range: { start: 0, end: 99 } });
  assert.ok(f.ok && f.value.type === 'rc-origin-fetch' && f.value.range?.start === 0);
  assert.ok(parsePageToWorker({ type: 'rc-learn', urls: ['https://o.test/a.m3u8'] }).ok);
  assert.equal(parsePageToWorker({ type: 'rc-learn', urls: Array(17).fill('u') }).ok, false);
  assert.equal(parsePageToWorker({ type: 'rc-learn', urls: [3] }).ok, false);
});
