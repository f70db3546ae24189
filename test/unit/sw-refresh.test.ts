import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Activity } from '../../sw/activity.js';
import { readWorkerConfig } from '../../sw/config.js';
import { handlePlaylist, handleSegment, refreshSwarm, type WorkerDeps } from '../../sw/handlers.js';
import { workerMemo } from '../../sw/deps.js';
import { PageLink } from '../../sw/page-link.js';
import { Registry } from '../../sw/registry.js';

const MANIFEST = 'https://o.test/live/media_0.m3u8?token=abc';

function playlist(upTo: number): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:2', `#EXT-X-MEDIA-SEQUENCE:${upTo - 3}`];
  for (let s = upTo - 3; s <= upTo; s++) lines.push('#EXTINF:2.0,', `seg_${s}.ts`);
  return lines.join('\n');
}

test('rc-refresh reads the swarm manifest again (same URL, past the HTTP cache), at most every 500 ms, and tells the page', async () => {
  let newest = 10;
  let now = 0;
  const fetched: { url: string; cache: string | undefined }[] = [];
  const told: unknown[] = [];
  const client = { id: 'page', postMessage: (m: unknown) => told.push(m) } as unknown as Client;
  const link = new PageLink({ get: async () => client, matchAll: async () => [client] } as never, 60_000, () => now);
  link.hello('page');
  const deps: WorkerDeps = {
    cfg: readWorkerConfig('https://o.test/relaycast/sw.js'),
    registry: new Registry(1000),
    activity: new Activity(() => now),
    link,
    fetch: async (req, init) => {
      fetched.push({ url: typeof req === 'string' ? req : req.url, cache: init?.cache });
      return new Response(playlist(newest), { status: 200, headers: { 'X-Relaycast-Integrity': 'sha256' } });
    },
    now: () => now,
    state: { p2p: 'on' },
    memo: workerMemo(),
    unregister: async () => undefined,
  };
  await (await handlePlaylist(deps, new Request(MANIFEST), 'page')).text();
  await new Promise((r) => setTimeout(r, 10));
  const swarm = deps.registry.segment('https://o.test/live/seg_10.ts')?.swarm;
  assert.ok(swarm, 'the player fetched the playlist: its segments are known');
  newest = 11;
  told.length = 0;
  await refreshSwarm(deps, swarm, 'page');
  assert.deepEqual(fetched.at(-1), { url: MANIFEST, cache: 'no-cache' });
  assert.ok(deps.registry.segment('https://o.test/live/seg_11.ts'), 'the new segment is learned before the player refreshes');
  const msg = told.find((m) => (m as { type?: string }).type === 'rc-playlist') as { segments: { seq: number }[] } | undefined;
  assert.equal(msg?.segments.at(-1)?.seq, 11, 'and the page is told');
  const n = fetched.length;
  now += 100;
  await refreshSwarm(deps, swarm, 'page');
  assert.equal(fetched.length, n, 'not again within 500 ms');
  now += 500;
  await refreshSwarm(deps, swarm, 'page');
  assert.equal(fetched.length, n + 1);
  await refreshSwarm(deps, 'https://o.test/unknown.m3u8', 'page');
  assert.equal(fetched.length, n + 1, 'an unknown swarm reads nothing');
});

test('a segment the page misses is fetched from the origin, and the page gets the copy with the fetch time (fetchMs)', async () => {
  let now = 1000;
  const told: unknown[] = [];
  const client = { id: 'page', postMessage: (m: unknown) => told.push(m) } as unknown as Client;
  const link = new PageLink({ get: async () => client, matchAll: async () => [client] } as never, 60_000, () => now);
  link.hello('page');
  const seg = new Uint8Array([1, 2, 3, 4]);
  const deps: WorkerDeps = {
    cfg: readWorkerConfig('https://o.test/relaycast/sw.js'),
    registry: new Registry(1000),
    activity: new Activity(() => now),
    link,
    fetch: async (req) => {
      const url = typeof req === 'string' ? req : req.url;
      if (url.includes('.m3u8')) return new Response(playlist(10), { status: 200, headers: { 'X-Relaycast-Integrity': 'sha256' } });
      now += 1234; // the origin takes 1.234 s
      return new Response(seg, { status: 200 });
    },
    now: () => now,
    state: { p2p: 'on' },
    memo: workerMemo(),
    unregister: async () => undefined,
  };
  await (await handlePlaylist(deps, new Request(MANIFEST), 'page')).text();
  await new Promise((r) => setTimeout(r, 10));
  const known = deps.registry.segment('https://o.test/live/seg_10.ts');
  assert.ok(known);
  // The page answers the worker's rc-get with a miss.
  const ask = link.ask.bind(link);
  link.ask = async () => ({ hit: false, reason: 'no time' });
  const waits: Promise<unknown>[] = [];
  const event = { clientId: 'page', request: new Request('https://o.test/live/seg_10.ts'), waitUntil: (p: Promise<unknown>) => waits.push(p) } as unknown as FetchEvent;
  const resp = await handleSegment(deps, event, known);
  assert.deepEqual(new Uint8Array(await resp.arrayBuffer()), seg);
  await Promise.all(waits);
  link.ask = ask;
  const fetched = told.find((m) => (m as { type?: string }).type === 'rc-fetched') as { fetchMs?: number; bytes: ArrayBuffer } | undefined;
  assert.equal(fetched?.fetchMs, 1234);
  assert.equal(fetched?.bytes.byteLength, 4);
});

test('pick: with no page running a mesh the origin answers at once, without asking the browser for its windows', async () => {
  let matchAllCalls = 0;
  let now = 0;
  const mesh = { id: 'mesh-page' } as unknown as Client;
  const link = new PageLink(
    {
      get: async () => undefined,
      matchAll: async () => {
        matchAllCalls++;
        return [mesh];
      },
    } as never,
    5_000,
    () => now,
  );
  assert.equal(await link.pick('new-page'), undefined);
  assert.equal(matchAllCalls, 0, 'no hello yet: the windows are not listed');
  link.hello('mesh-page');
  assert.equal(await link.pick('worker-client'), mesh, 'a request from a client without a mesh goes to a window that runs one');
  assert.equal(matchAllCalls, 1);
  now = 6_000;
  assert.equal(await link.pick('worker-client'), undefined, 'that window went quiet');
  assert.equal(await link.pick('new-page'), undefined);
  assert.equal(matchAllCalls, 2, 'once its hello expired, the windows are not listed again');
});
