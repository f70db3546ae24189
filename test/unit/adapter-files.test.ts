import assert from 'node:assert/strict';
import { mkdtemp, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLiveRoutes, type MediaRoutes } from '../../origin-adapter/live-routes.js';
import { serveFile } from '../../origin-adapter/serve-file.js';
import { HashRegistry, published, segmentHash } from '../../origin-adapter/integrity.js';
import { createCounters } from '../../origin-adapter/stats.js';
import { closeServer, httpGet, listen } from './adapter-helpers.js';

let dir: string;
let server: Server;
let base: string;
let media: MediaRoutes;
const counters = createCounters();
const BIG = 16 * 1024 * 1024;
const hashes = new HashRegistry();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relaycast-test-'));
  await writeFile(join(dir, 'index.m3u8'), '#EXTM3U\n#EXTINF:2,\nchunk-e0-0-000001.m4s\n');
  await writeFile(join(dir, 'stream.mpd'), '<?xml version="1.0"?>\n<MPD type="dynamic" suggestedPresentationDelay="PT2S">\n</MPD>\n');
  await writeFile(join(dir, 'chunk-e0-0-000001.m4s'), Buffer.alloc(1000, 7));
  media = createLiveRoutes({ streamName: 'demo', liveDir: dir, vodDir: dir, counters, hashes, p2pMode: () => 'on', presentationDelaySec: 6 });
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const work = path.startsWith('/raw/')
      ? serveFile(req, res, join(dir, path.slice(5)), { contentType: 'video/mp2t', cacheControl: 'no-cache' })
      : media.handle(req, res, path).then((handled) => {
          if (!handled) res.writeHead(404).end();
        });
    void work.catch(() => res.destroy());
  });
  base = await listen(server);
});
after(async () => {
  await closeServer(server);
  await rm(dir, { recursive: true, force: true });
});

test('playlist and segment: content types, caching, CORS, HEAD, Range, counters', async () => {
  const pl = await httpGet(`${base}/live/demo/index.m3u8`);
  assert.equal(pl.status, 200);
  assert.equal(pl.headers['content-type'], 'application/vnd.apple.mpegurl');
  assert.equal(pl.headers['cache-control'], 'no-cache');
  assert.equal(pl.headers['access-control-allow-origin'], '*');
  const seg = await httpGet(`${base}/live/demo/chunk-e0-0-000001.m4s`);
  assert.equal(seg.status, 200);
  assert.equal(seg.headers['content-type'], 'video/mp4');
  assert.equal(seg.headers['cache-control'], 'max-age=60');
  assert.equal(seg.body.length, 1000);
  const head = await httpGet(`${base}/live/demo/chunk-e0-0-000001.m4s`, { method: 'HEAD' });
  assert.equal(head.headers['content-length'], '1000');
  assert.equal(head.body.length, 0);
  const part = await httpGet(`${base}/live/demo/chunk-e0-0-000001.m4s`, { headers: { range: 'bytes=10-19' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers['content-range'], 'bytes 10-19/1000');
  assert.equal(part.body.length, 10);
  const snap = counters.snapshot();
  assert.equal(snap.originSegmentBytes, 1010);
  assert.equal(snap.originSegmentRequests, 3);
  assert.equal(snap.originPlaylistRequests, 1);
});

test('a media playlist carries the hashes of every segment it lists, and the kill switch', async () => {
  const pl = await httpGet(`${base}/live/demo/index.m3u8`);
  assert.equal(pl.headers['x-relaycast-integrity'], 'sha256');
  assert.equal(pl.headers['x-relaycast-p2p'], 'on');
  const h = segmentHash(Buffer.alloc(1000, 7));
  assert.equal(pl.headers['x-relaycast-hashes'], `chunk-e0-0-000001.m4s=${h.sha256}:${h.pieceRoot}`);
  assert.deepEqual(hashes.get('/live/demo/chunk-e0-0-000001.m4s'), published(h));
  assert.match(String(pl.headers['access-control-expose-headers']), /X-Relaycast-Hashes/);
});

test('the live MPD carries the hashes and a presentation delay players can hold; VOD manifests carry none', async () => {
  const mpd = await httpGet(`${base}/live/demo/stream.mpd`);
  assert.equal(mpd.headers['content-type'], 'application/dash+xml');
  assert.match(mpd.body.toString(), /suggestedPresentationDelay="PT6S"/);
  const h = segmentHash(Buffer.alloc(1000, 7));
  assert.equal(mpd.headers['x-relaycast-hashes'], `chunk-e0-0-000001.m4s=${h.sha256}:${h.pieceRoot}`);
  const vod = await httpGet(`${base}/vod/demo/index.m3u8`);
  assert.equal(vod.status, 200);
  assert.equal(vod.headers['x-relaycast-hashes'], undefined);
  assert.equal(vod.headers['cache-control'], 'max-age=60');
  assert.equal(media.fileFor('/vod/demo/chunk-e0-0-000001.m4s'), join(dir, 'chunk-e0-0-000001.m4s'));
  assert.equal(media.fileFor('/vod/demo/index.m3u8'), undefined);
  assert.equal(media.fileFor('/vod/other/chunk-e0-0-000001.m4s'), undefined);
});

test('missing files, other streams and traversal are 404', async () => {
  for (const p of ['/live/demo/chunk-e0-0-999999.m4s', '/live/other/index.m3u8', '/live/demo/..%2F..%2Fetc%2Fpasswd', '/live/demo/%2e%2e', '/live/demo/../../etc/passwd']) {
    assert.equal((await httpGet(`${base}${p}`)).status, 404, p);
  }
});

test('ffmpeg\'s in-progress .tmp files (and any other non-media file) are not served', async () => {
  await writeFile(join(dir, 'chunk-e0-0-000002.m4s.tmp'), Buffer.alloc(10));
  await writeFile(join(dir, 'media_0.m3u8.tmp'), '#EXTM3U\n');
  await writeFile(join(dir, 'notes.txt'), 'x');
  for (const f of ['chunk-e0-0-000002.m4s.tmp', 'media_0.m3u8.tmp', 'notes.txt']) {
    assert.equal((await httpGet(`${base}/live/demo/${f}`)).status, 404, f);
    assert.equal((await httpGet(`${base}/vod/demo/${f}`)).status, 404, f);
  }
});

test('Range: bytes=100-50 is ignored (200), a non-matching If-Range gets 200, a matching one 206', async () => {
  const url = `${base}/live/demo/chunk-e0-0-000001.m4s`;
  const bad = await httpGet(url, { headers: { range: 'bytes=100-50' } });
  assert.equal(bad.status, 200);
  assert.equal(bad.body.length, 1000);
  const full = await httpGet(url);
  const lastModified = String(full.headers['last-modified']);
  const stale = await httpGet(url, { headers: { range: 'bytes=0-9', 'if-range': 'Thu, 01 Jan 1970 00:00:00 GMT' } });
  assert.equal(stale.status, 200, 'If-Range does not match: the whole representation');
  assert.equal(stale.body.length, 1000);
  const etag = await httpGet(url, { headers: { range: 'bytes=0-9', 'if-range': '"some-etag"' } });
  assert.equal(etag.status, 200, 'we send no ETag, so an entity-tag never matches');
  const fresh = await httpGet(url, { headers: { range: 'bytes=0-9', 'if-range': lastModified } });
  assert.equal(fresh.status, 206);
  assert.equal(fresh.body.length, 10);
  assert.equal((await httpGet(url, { headers: { range: 'BYTES=0-9' } })).status, 206);
});

test('a half-written playlist is never served', async () => {
  await writeFile(join(dir, 'partial.m3u8'), '');
  assert.equal((await httpGet(`${base}/live/demo/partial.m3u8`)).status, 503);
});

test('file deleted mid-stream: the open handle still delivers every byte', async () => {
  await writeFile(join(dir, 'big.ts'), Buffer.alloc(BIG, 1));
  const got = await new Promise<number>((resolve, reject) => {
    request(`${base}/live/demo/big.ts`, (res) => {
      let n = 0;
      let deleted = false;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (!deleted) {
          deleted = true;
          void unlink(join(dir, 'big.ts'));
        }
      });
      res.on('end', () => resolve(n));
      res.on('error', reject);
    }).end();
  });
  assert.equal(got, BIG);
  assert.equal((await httpGet(`${base}/live/demo/big.ts`)).status, 404);
});

test('file truncated mid-stream: the response is aborted, not left hanging; server survives', async () => {
  await writeFile(join(dir, 'trunc.ts'), Buffer.alloc(BIG, 2));
  const outcome = await new Promise<string>((resolve) => {
    const req = request(`${base}/raw/trunc.ts`, (res) => {
      res.pause();
      void truncate(join(dir, 'trunc.ts'), 1000).then(() => res.resume());
      res.on('data', () => undefined);
      res.on('end', () => resolve('end'));
      res.on('error', () => resolve('error'));
      res.on('aborted', () => resolve('aborted'));
    });
    req.on('error', () => resolve('error'));
    req.end();
  });
  assert.notEqual(outcome, 'end');
  assert.equal((await httpGet(`${base}/live/demo/chunk-e0-0-000001.m4s`)).status, 200);
});

test('client abort mid-stream never crashes the server', async () => {
  await writeFile(join(dir, 'abort.ts'), Buffer.alloc(BIG, 3));
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve) => {
      const req = request(`${base}/live/demo/abort.ts`, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end();
    });
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await httpGet(`${base}/live/demo/chunk-e0-0-000001.m4s`)).status, 200);
});
