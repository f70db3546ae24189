import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { HashRegistry, segmentHash } from '../../origin-adapter/integrity.js';
import { createUpstreamHasher } from '../../origin-adapter/upstream-hasher.js';
import { closeServer, listen } from './adapter-helpers.js';

let server: Server;
let base: string;
let active = 0;
let maxActive = 0;
const hits = new Map<string, number>();

before(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    active++;
    maxActive = Math.max(maxActive, active);
    res.on('close', () => active--);
    if (path === '/ok.ts') return void res.end(Buffer.alloc(500, 1));
    if (path === '/big.ts') return void res.writeHead(200, { 'content-length': '1001' }).end(Buffer.alloc(1001));
    if (path === '/endless.ts') {
      res.writeHead(200);
      const t = setInterval(() => res.write(Buffer.alloc(300)), 5);
      res.on('close', () => clearInterval(t));
      return;
    }
    if (path === '/missing.ts') return void res.writeHead(404).end();
    if (path === '/moved.ts') return void res.writeHead(302, { location: '/ok.ts' }).end();
    if (path === '/gz.ts') return void res.writeHead(200, { 'content-encoding': 'gzip' }).end('x');
    if (path === '/stall.ts') return void res.writeHead(200, { 'content-length': '100' });
    if (path === '/short.ts') {
      res.writeHead(200, { 'content-length': '100' });
      res.write(Buffer.alloc(50));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    if (path.startsWith('/slow-')) return void setTimeout(() => res.end('s'), 150);
    res.writeHead(404).end();
  });
  base = await listen(server);
});
after(() => closeServer(server));

const seg = (name: string) => ({ path: `/live/${name}`, upstream: new URL(`${base}/${name}`) });

test('canonical hashing is bounded: size, status, encoding, redirects, idle and total time, short bodies; failures are not retried at once', async () => {
  const reg = new HashRegistry();
  const h = createUpstreamHasher(reg, { maxBytes: 1000, idleTimeoutMs: 200, totalTimeoutMs: 800, retryAfterMs: 60_000, eagerPerRendition: 0 });
  try {
    const names = ['ok.ts', 'big.ts', 'endless.ts', 'missing.ts', 'moved.ts', 'gz.ts', 'stall.ts', 'short.ts'];
    h.listed(names.map(seg), true);
    const got = await Promise.all(names.map((n) => h.ensure(`/live/${n}`, 3000)));
    assert.deepEqual(got[0], segmentHash(Buffer.alloc(500, 1)));
    assert.deepEqual(got.slice(1), names.slice(1).map(() => undefined));
    assert.equal(reg.size, 1);
    const before = hits.get('/missing.ts');
    assert.equal(await h.ensure('/live/missing.ts', 1000), undefined);
    assert.equal(hits.get('/missing.ts'), before, 'a failure is remembered: no second fetch at once');
    assert.equal(await h.ensure('/live/not-listed.ts', 1000), undefined, 'only listed paths are fetched');
    assert.equal(hits.get('/not-listed.ts'), undefined);
  } finally {
    h.close();
  }
});

test('canonical hashing: at most `concurrency` fetches at once, at most `queueMax` waiting (the oldest dropped)', async () => {
  maxActive = 0;
  const reg = new HashRegistry();
  const h = createUpstreamHasher(reg, { concurrency: 2, queueMax: 3, eagerPerRendition: 20 });
  try {
    const names = Array.from({ length: 12 }, (_, i) => `slow-${i}.ts`);
    h.listed(names.map(seg), false);
    for (let i = 0; i < 100 && (active > 0 || reg.size < 5); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(maxActive <= 2, `${maxActive} at once`);
    assert.equal(reg.size, 5, 'two running plus three queued; the rest were dropped');
    assert.ok(reg.get('/live/slow-11.ts') !== undefined, 'the newest queued survive');
    assert.deepEqual(await h.ensure('/live/slow-3.ts', 2000), segmentHash(Buffer.from('s')), 'a dropped one is fetched when a page asks');
  } finally {
    h.close();
  }
});
