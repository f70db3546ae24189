import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startAdapter, type Adapter } from '../../origin-adapter/index.js';
import { published, segmentHash } from '../../origin-adapter/integrity.js';
import { closeServer, httpGet, listen, silent } from './adapter-helpers.js';

const SEGMENT = randomBytes(3 * 1024 * 1024 + 17);
const P_BYTES = randomBytes(200_000);
let upstream: Server;
let upstreamUrl: string;
let adapter: Adapter;
const seenRanges: (string | undefined)[] = [];
let upstreamAborts = 0;
/** Requests the upstream saw for the hashed segments: url and headers. */
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

const HLS = (uris: string[]): string => ['#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:1', ...uris.flatMap((u) => ['#EXTINF:2.0,', u]), ''].join('\n');
const MPD = `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S"><Period id="p0"><AdaptationSet id="0" mimeType="video/mp4">
<SegmentTemplate media="d-$Number$.m4s" initialization="d-init.m4s" duration="2" timescale="1" startNumber="1"/><Representation id="v" bandwidth="1000"/></AdaptationSet></Period></MPD>
`;

before(async () => {
  upstream = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    // A segment whose bytes depend on what the client asks for: the query and Accept-Encoding.
    if (['/base/live/p.ts', '/base/live/q.ts', '/base/dash/d-1.m4s', '/base/dash/d-2.m4s'].includes(path)) {
      seen.push({ url: req.url ?? '', headers: req.headers });
      const body = url.searchParams.has('v') ? Buffer.from('other bytes') : path.startsWith('/base/dash/') ? Buffer.from(path) : P_BYTES;
      if (String(req.headers['accept-encoding'] ?? '').includes('gzip')) {
        const gz = gzipSync(body);
        res.writeHead(200, { 'content-type': 'video/mp2t', 'content-encoding': 'gzip', 'content-length': gz.length });
        res.end(gz);
        return;
      }
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': body.length });
      res.end(body);
      return;
    }
    if (path === '/base/live/p.m3u8') {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'x-relaycast-hashes': `p.ts=${'A'.repeat(43)}` });
      res.end(HLS(['p.ts', 'q.ts?sig=abc', 'https://cdn.elsewhere.test/x.ts']));
      return;
    }
    if (path === '/base/dash/s.mpd') {
      res.writeHead(200, { 'content-type': 'application/dash+xml' });
      res.end(MPD);
      return;
    }
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

test('upstream hashes come from the adapter\'s own canonical fetch, not from whichever client request came first', async () => {
  assert.equal((await httpGet(`${adapter.url}/relaycast/hash?path=/live/never.ts`)).status, 404);
  // A client asks first, with a query and gzip: it gets those bytes, and they must not become the reference.
  const first = await httpGet(`${adapter.url}/live/p.ts?v=1`, { headers: { 'accept-encoding': 'gzip', cookie: 'session=1' } });
  assert.equal(first.status, 200);
  assert.equal(first.headers['content-encoding'], 'gzip');
  const pl = await httpGet(`${adapter.url}/live/p.m3u8`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(pl.status, 200);
  assert.equal(pl.headers['x-relaycast-p2p'], 'on');
  assert.equal(pl.headers['x-relaycast-integrity'], 'sha256');
  assert.equal(pl.headers['content-encoding'], undefined, 'the manifest is read unencoded');
  assert.match(pl.body.toString(), /^#EXTM3U/);
  assert.notEqual(pl.headers['x-relaycast-hashes'], `p.ts=${'A'.repeat(43)}`, 'an upstream\'s own X-Relaycast-* headers are dropped');
  const h = await httpGet(`${adapter.url}/relaycast/hash?path=${encodeURIComponent('/live/p.ts?token=zzz')}`);
  assert.equal(h.status, 200);
  assert.deepEqual(JSON.parse(h.body.toString()), published(segmentHash(P_BYTES)), 'SHA-256 and piece root of the canonical bytes');
  const canonical = seen.filter((r) => r.url === '/base/live/p.ts');
  assert.equal(canonical.length, 1, 'fetched once, exactly as listed');
  assert.equal(canonical[0]?.headers['accept-encoding'], 'identity');
  assert.equal(canonical[0]?.headers.cookie, undefined, 'no client header');
  // The next manifest answer carries the hashes known by then.
  for (let i = 0; i < 50 && adapter.segmentHash('/live/q.ts') === undefined; i++) await new Promise((r) => setTimeout(r, 20));
  const again = await httpGet(`${adapter.url}/live/p.m3u8`);
  const p = segmentHash(P_BYTES);
  assert.equal(again.headers['x-relaycast-hashes'], `/live/p.ts=${p.sha256}:${p.pieceRoot},/live/q.ts?sig=abc=${p.sha256}:${p.pieceRoot}`);
  assert.ok(seen.some((r) => r.url === '/base/live/q.ts?sig=abc'), 'the listed query is part of the canonical request');
  assert.ok(!seen.some((r) => r.url.includes('x.ts')), 'a URI on another host is not fetched');
  assert.equal((await httpGet(`${adapter.url}/relaycast/hash?path=nope`)).status, 400);
  adapter.setP2P('unregister');
  assert.equal((await httpGet(`${adapter.url}/live/p.m3u8`)).headers['x-relaycast-p2p'], 'unregister');
  adapter.setP2P('on');
});

test('upstream DASH: the segments a SegmentTemplate lists are hashed by the adapter', async () => {
  const mpd = await httpGet(`${adapter.url}/dash/s.mpd`);
  assert.equal(mpd.status, 200);
  assert.equal(mpd.body.toString(), MPD);
  const h = await httpGet(`${adapter.url}/relaycast/hash?path=/dash/d-2.m4s`);
  assert.equal(h.status, 200);
  assert.deepEqual(JSON.parse(h.body.toString()), published(segmentHash(Buffer.from('/base/dash/d-2.m4s'))));
  assert.equal((await httpGet(`${adapter.url}/relaycast/hash?path=/dash/d-3.m4s`)).status, 404, 'not listed: no fetch');
});

test('a segment streamed to a client is not hashed from that stream', async () => {
  await httpGet(`${adapter.url}/live/a.ts`);
  assert.equal(adapter.segmentHash('/live/a.ts'), undefined);
  assert.equal((await httpGet(`${adapter.url}/relaycast/hash?path=/live/a.ts`)).status, 404);
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
