import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { listedSegments } from '../../origin-adapter/ffmpeg-args.js';
import { startAdapter } from '../../origin-adapter/index.js';
import { createLiveSource } from '../../origin-adapter/live-source.js';
import { httpGet, silent } from './adapter-helpers.js';

/** Pids of processes whose command line mentions `needle` (Linux /proc). */
async function pidsWith(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) out.push(Number(name));
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('live source: ready with >=3 segments, restarts ffmpeg with continued numbering, stop kills it', async () => {
  const logs: string[] = [];
  const src = await createLiveSource({ segmentSec: 1, windowSegments: 4, log: (l) => logs.push(l) });
  try {
    await src.start();
    const first = listedSegments(await readFile(join(src.dir, 'index.m3u8'), 'utf8'));
    assert.ok(first.length >= 3);
    assert.match(await readFile(join(src.dir, 'master.m3u8'), 'utf8'), /EXT-X-STREAM-INF/);
    const [pid] = await pidsWith(src.dir);
    assert.ok(pid !== undefined, 'ffmpeg runs');
    process.kill(pid, 'SIGKILL');
    let after: number[] = [];
    for (let i = 0; i < 60; i++) {
      await sleep(100);
      const text = await readFile(join(src.dir, 'index.m3u8'), 'utf8').catch(() => '');
      after = text.includes('#EXT-X-DISCONTINUITY') ? listedSegments(text) : [];
      if (after.length > 0) break;
    }
    assert.ok(after.length > 0, `restarted: ${logs.join('\n')}`);
    assert.ok(Math.min(...after) > Math.max(...first), 'segment names never repeat after a restart');
    assert.match(logs.join('\n'), /restart 1\//);
  } finally {
    await src.stop();
  }
  assert.equal(existsSync(src.dir), false);
  assert.deepEqual(await pidsWith(src.dir), [], 'no ffmpeg left running');
});

test('adapter with the embedded source serves the live stream over HTTP', async () => {
  const a = await startAdapter({ port: 0, segmentSec: 1, windowSegments: 4, log: silent });
  try {
    assert.match(a.playerUrl, /\/watch\/demo$/);
    const root = await httpGet(`${a.url}/`);
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, '/watch/demo');
    const page = await httpGet(a.playerUrl);
    assert.match(page.body.toString(), /const SRC = "\/live\/demo\/master\.m3u8"/);
    assert.match(page.body.toString(), /<script src="\/relaycast\/relaycast\.js"><\/script>/);
    assert.doesNotMatch((await httpGet(`${a.playerUrl}?relaycast=0`)).body.toString(), /relaycast\.js/);
    const master = await httpGet(`${a.url}/live/demo/master.m3u8`);
    assert.equal(master.headers['content-type'], 'application/vnd.apple.mpegurl');
    const media = await httpGet(`${a.url}/live/demo/index.m3u8`);
    const names = media.body.toString().split('\n').filter((l) => l.endsWith('.ts'));
    assert.ok(names.length >= 3, media.body.toString());
    const seg = await httpGet(`${a.url}/live/demo/${names.at(-1) ?? ''}`);
    assert.equal(seg.status, 200);
    assert.equal(seg.headers['content-type'], 'video/mp2t');
    assert.equal(seg.body[0], 0x47, 'MPEG-TS sync byte');
    const stats = JSON.parse((await httpGet(`${a.url}/relaycast/stats`)).body.toString());
    assert.equal(stats.originSegmentBytes, seg.body.length);
    assert.equal(stats.originSegmentRequests, 1);
    assert.equal(stats.originPlaylistRequests, 2);
    assert.equal((await httpGet(`${a.url}/relaycast/vendor/hls.min.js`, { method: 'HEAD' })).status, 200);
  } finally {
    await a.close();
  }
});

test('missing dist files answer 404 with a hint', async () => {
  const a = await startAdapter({ port: 0, source: false, distDir: '/nonexistent', log: silent });
  try {
    const r = await httpGet(`${a.url}/relaycast/sw.js`);
    assert.equal(r.status, 404);
    assert.match(r.body.toString(), /npm run build/);
  } finally {
    await a.close();
  }
});
