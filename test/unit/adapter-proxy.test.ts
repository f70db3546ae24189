import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { startAdapter, type Adapter } from '../../origin-adapter/index.js';
import { closeServer, httpGet, listen, silent } from './adapter-helpers.js';

const SEGMENT = randomBytes(3 * 1024 * 1024 + 17);
let upstream: Server;
let upstreamUrl: string;
let adapter: Adapter;
const seenRanges: (string | undefined)[] = [];
let upstreamAborts = 0;

before(async () => {
  upstream = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/base/live/a.ts') {
      seenRanges.push(req.headers.range);
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (m) {
        const [s, e] = [Number(m[1]), Number(m[2])];
        res.writeHead(206, { 'content-type': 'video/mp2t', 'content-range': `bytes ${s}-${e}/${SEGMENT.length}`, connection: 'x-hop', 'x-hop': '1' });
        res.end(SEGMENT.subarray(s, e + 1));
        return;
      }
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': SEGMENT.length, 'x-origin': 'yes' });
      res.end(req.method === 'HEAD' ? undefined : SEGMENT);
      return;
    }
    if (path === '/base/live/a.m3u8') {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
      res.end('#EXTM3U\n');
      return;
    }
    if (path === '/base/moved') {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
      return;
    }
    if (path === '/base/slow.ts') {
      // Streams forever until the proxy drops us.
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      const t = setInterval(() => res.write(Buffer.alloc(64 * 1024)), 5);
      res.on('close', () => {
        clearInterval(t);
        upstreamAborts++;
      });
      return;
    }
    res.writeHead(404).end();
  });
  upstreamUrl = await listen(upstream);
  adapter = await startAdapter({ port: 0, upstream: `${upstreamUrl}/base`, log: silent });
});
after(async () => {
  await adapter.close();
  await closeServer(upstream);
});

test('proxied segment bytes are identical and counted', async () => {
  const r = await httpGet(`${adapter.url}/live/a.ts`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-origin'], 'yes');
  assert.ok(r.body.equals(SEGMENT));
  assert.equal(adapter.stats().originSegmentBytes, SEGMENT.length);
  const pl = await httpGet(`${adapter.url}/live/a.m3u8?x=1`);
  assert.equal(pl.body.toString(), '#EXTM3U\n');
  assert.equal(adapter.stats().originPlaylistRequests, 1);
});

test('upstream mode publishes the hash of a proxied segment and the kill switch on playlists', async () => {
  const before = await httpGet(`${adapter.url}/relaycast/hash?path=/live/never.ts`);
  assert.equal(before.status, 404);
  await httpGet(`${adapter.url}/live/a.ts?token=abc`);
  const h = await httpGet(`${adapter.url}/relaycast/hash?path=${encodeURIComponent('/live/a.ts?token=zzz')}`);
  assert.equal(h.status, 200);
  assert.equal(JSON.parse(h.body.toString()).sha256, createHash('sha256').update(SEGMENT).digest('base64url'));
  assert.equal((await httpGet(`${adapter.url}/relaycast/hash?path=nope`)).status, 400);
  const pl = await httpGet(`${adapter.url}/live/a.m3u8`);
  assert.equal(pl.headers['x-relaycast-p2p'], 'on');
  assert.equal(pl.headers['x-relaycast-integrity'], 'sha256');
  adapter.setP2P('unregister');
  assert.equal((await httpGet(`${adapter.url}/live/a.m3u8`)).headers['x-relaycast-p2p'], 'unregister');
  adapter.setP2P('on');
});

test('Range passes through; hop-by-hop headers are dropped', async () => {
  const r = await httpGet(`${adapter.url}/live/a.ts`, { headers: { range: 'bytes=100-199' } });
  assert.equal(r.status, 206);
  assert.equal(seenRanges.at(-1), 'bytes=100-199');
  assert.equal(r.headers['content-range'], `bytes 100-199/${SEGMENT.length}`);
  assert.ok(r.body.equals(SEGMENT.subarray(100, 200)));
  assert.equal(r.headers['x-hop'], undefined);
});

test('redirects pass through unchanged, HEAD works, other methods refused', async () => {
  const r = await httpGet(`${adapter.url}/moved`);
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, '/elsewhere');
  const h = await httpGet(`${adapter.url}/live/a.ts`, { method: 'HEAD' });
  assert.equal(h.headers['content-length'], String(SEGMENT.length));
  assert.equal((await httpGet(`${adapter.url}/live/a.ts`, { method: 'POST', body: 'x' })).status, 405);
});

test('watch page in upstream mode, relaycast routes are not proxied', async () => {
  const page = await httpGet(`${adapter.url}/watch?src=${encodeURIComponent('/live/a.m3u8')}`);
  assert.equal(page.status, 200);
  assert.match(page.body.toString(), /const SRC = "\/live\/a\.m3u8"/);
  assert.equal((await httpGet(`${adapter.url}/watch?src=javascript:alert(1)`)).status, 400);
  assert.equal((await httpGet(`${adapter.url}/relaycast/nope`)).status, 404);
});

test('client abort destroys the upstream request', async () => {
  await new Promise<void>((resolve) => {
    const req = request(`${adapter.url}/slow.ts`, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => resolve());
    req.end();
  });
  for (let i = 0; i < 50 && upstreamAborts === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(upstreamAborts, 1);
});

test('upstream down: 502', async () => {
  const dead = createServer();
  const deadUrl = await listen(dead);
  await closeServer(dead);
  const a = await startAdapter({ port: 0, upstream: deadUrl, log: silent });
  try {
    const r = await httpGet(`${a.url}/live/a.ts`);
    assert.equal(r.status, 502);
    assert.equal((await httpGet(`${a.url}/relaycast/stats`)).status, 200, 'still serving');
  } finally {
    await a.close();
  }
});
