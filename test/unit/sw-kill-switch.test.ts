import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Activity } from '../../sw/activity.js';
import { readWorkerConfig } from '../../sw/config.js';
import { handlePlaylist, type WorkerDeps } from '../../sw/handlers.js';
import { workerMemo } from '../../sw/deps.js';
import { PageLink } from '../../sw/page-link.js';
import { Registry } from '../../sw/registry.js';

function deps(scriptUrl: string, global?: unknown): WorkerDeps {
  const client = { id: 'page', postMessage: () => undefined } as unknown as Client;
  return {
    cfg: readWorkerConfig(scriptUrl, global),
    registry: new Registry(1000),
    activity: new Activity(() => 0),
    link: new PageLink({ get: async () => client, matchAll: async () => [client] } as never, 60_000, () => 0),
    fetch: async () => new Response('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg_1.ts\n', { status: 200, headers: { 'X-Relaycast-P2P': 'off' } }),
    now: () => 0,
    state: { p2p: 'on' },
    memo: workerMemo(),
    unregister: async () => undefined,
  };
}

test('kill switch: obeyed from manifests of the worker\'s own origin, ignored from any other', async () => {
  const own = deps('https://site.test/relaycast/sw.js');
  await (await handlePlaylist(own, new Request('https://site.test/live/a.m3u8'), 'page')).text();
  assert.equal(own.state.p2p, 'off');
  const other = deps('https://site.test/relaycast/sw.js');
  await (await handlePlaylist(other, new Request('https://elsewhere.test/live/a.m3u8'), 'page')).text();
  assert.equal(other.state.p2p, 'on', 'a manifest of another origin cannot switch P2P off for every tab');
  assert.ok(other.registry.segment('https://elsewhere.test/live/seg_1.ts'), 'its segments are still learned');
});

test('kill switch: an origin configured in the worker URL (controlOrigins) or a site worker\'s relaycastConfig is obeyed', async () => {
  const q = deps(`https://site.test/relaycast/sw.js?controlOrigins=${encodeURIComponent('https://cdn.test,not a url,https://x.test/path')}`);
  assert.deepEqual(q.cfg.controlOrigins, ['https://site.test', 'https://cdn.test', 'https://x.test']);
  await (await handlePlaylist(q, new Request('https://cdn.test/live/a.m3u8'), 'page')).text();
  assert.equal(q.state.p2p, 'off');
  const g = deps('https://site.test/sw.js', { controlOrigins: ['https://cdn.test', 42] });
  assert.deepEqual(g.cfg.controlOrigins, ['https://site.test', 'https://cdn.test']);
  await (await handlePlaylist(g, new Request('https://cdn.test/live/a.m3u8'), 'page')).text();
  assert.equal(g.state.p2p, 'off');
});
