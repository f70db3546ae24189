import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { listedSegments } from '../../origin-adapter/ffmpeg-args.js';
import { startAdapter } from '../../origin-adapter/index.js';
import { createLiveSource } from '../../origin-adapter/live-source.js';
import { httpGet, silent } from './adapter-helpers.js';
import { published, segmentHash } from '../../origin-adapter/integrity.js';

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

test('live source: ready with >=3 segments, restarts ffmpeg with new segment names, stop kills it', async () => {
  const logs: string[] = [];
  const src = await createLiveSource({ segmentSec: 1, windowSegments: 4, renditions: 2, log: (l) => logs.push(l) });
  try {
    await src.start();
    const first = listedSegments(await readFile(join(src.dir, 'media_0.m3u8'), 'utf8'));
    assert.ok(first.length >= 3);
    assert.match(await readFile(join(src.dir, 'master.m3u8'), 'utf8'), /EXT-X-STREAM-INF[\s\S]*media_1\.m3u8/);
    assert.match(await readFile(join(src.dir, 'stream.mpd'), 'utf8'), /type="dynamic"/);
    const [pid] = await pidsWith(src.dir);
    assert.ok(pid !== undefined, 'ffmpeg runs');
    process.kill(pid, 'SIGKILL');
    let after: string[] = [];
    for (let i = 0; i < 100; i++) {
      await sleep(100);
      const text = await readFile(join(src.dir, 'media_0.m3u8'), 'utf8').catch(() => '');
      after = listedSegments(text).filter((n) => n.startsWith('chunk-e1-'));
      if (after.length > 0) break;
    }
    assert.ok(after.length > 0, `restarted: ${logs.join('\n')}`);
    assert.ok(after.every((n) => !first.includes(n)), 'segment names never repeat after a restart');
    assert.match(logs.join('\n'), /restart 1\//);
  } finally {
    await src.stop();
  }
  assert.equal(existsSync(src.dir), false);
  assert.deepEqual(await pidsWith(src.dir), [], 'no ffmpeg left running');
});

test('live source at a constant bitrate: the filler reaches the fMP4 segments (HD-sized bytes)', async () => {
  const src = await createLiveSource({ segmentSec: 1, windowSegments: 4, renditions: 1, bitrateKbps: 2000, log: () => undefined });
  try {
    await src.start();
    const names = listedSegments(await readFile(join(src.dir, 'media_0.m3u8'), 'utf8'));
    // The first segment may be short of the rate while the VBV buffer fills; the later ones carry it.
    const sizes = await Promise.all(names.slice(1).map(async (n) => (await readFile(join(src.dir, n))).length));
    const want = (2000 * 1000) / 8; // 1 s at 2000 kbit/s
    for (const size of sizes) assert.ok(size > 0.9 * want && size < 1.1 * want, `segment of ${size} bytes, want about ${want}`);
  } finally {
    await src.stop();
  }
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
    const media = await httpGet(`${a.url}/live/demo/media_0.m3u8`);
    const names = listedSegments(media.body.toString());
    assert.ok(names.length >= 3, media.body.toString());
    const mpd = await httpGet(`${a.url}/live/demo/stream.mpd`);
    assert.equal(mpd.headers['content-type'], 'application/dash+xml');
    // Audio and video playlists carry the same clock: each segment's EXT-X-PROGRAM-DATE-TIME, from the MPD.
    const audio = (await httpGet(`${a.url}/live/demo/media_1.m3u8`)).body.toString();
    const dates = (text: string): Map<string, number> =>
      new Map([...text.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)\n#EXTINF:[^\n]*\nchunk-e\d+-\d+-(\d+)\.m4s/g)].map((m) => [m[2] ?? '', Date.parse(m[1] ?? '')]));
    const v = dates(media.body.toString());
    const au = dates(audio);
    assert.ok(v.size >= 2 && au.size >= 2, `dated segments:\n${media.body.toString()}\n${audio}`);
    for (const [num, at] of v) {
      const other = au.get(num);
      if (other !== undefined) assert.ok(Math.abs(other - at) < 100, `segment ${num}: video ${at}, audio ${other}`);
      assert.ok(Math.abs(at - Date.now()) < 60_000, `a recent wall clock: ${new Date(at).toISOString()}`);
    }
    for (const n of names) assert.match(String(mpd.headers['x-relaycast-hashes']), new RegExp(n.replace(/\./g, '\\.')));
    const seg = await httpGet(`${a.url}/live/demo/${names.at(-1) ?? ''}`);
    assert.equal(seg.status, 200);
    assert.equal(seg.headers['content-type'], 'video/mp4');
    assert.equal(seg.body.subarray(4, 8).toString('latin1'), 'styp', 'an fMP4 media segment');
    const stats = JSON.parse((await httpGet(`${a.url}/relaycast/stats`)).body.toString());
    assert.equal(stats.originSegmentBytes, seg.body.length);
    assert.equal(stats.originSegmentRequests, 1);
    assert.equal(stats.originPlaylistRequests, 4);
    for (const f of ['hls.min.js', 'dash.all.min.js', 'video.min.js', 'video-js.min.css', 'shaka-player.compiled.js']) {
      assert.equal((await httpGet(`${a.url}/relaycast/vendor/${f}`, { method: 'HEAD' })).status, 200, f);
    }
    // VOD: byte ranges of one file; the hash route hashes any range of it on demand.
    const vodPl = (await httpGet(`${a.url}/vod/demo/media_0.m3u8`)).body.toString();
    const m = /#EXT-X-BYTERANGE:(\d+)@(\d+)\n(vod-0\.mp4)/.exec(vodPl);
    assert.ok(m, vodPl);
    const [len, off] = [Number(m[1]), Number(m[2])];
    const part = await httpGet(`${a.url}/vod/demo/vod-0.mp4`, { headers: { range: `bytes=${off}-${off + len - 1}` } });
    assert.equal(part.status, 206);
    const h = await httpGet(`${a.url}/relaycast/hash?path=/vod/demo/vod-0.mp4&range=${off}-${off + len - 1}`);
    assert.deepEqual(JSON.parse(h.body.toString()), published(segmentHash(part.body)), 'the range\'s SHA-256 and piece root');
    assert.equal((await httpGet(`${a.url}/relaycast/hash?path=/vod/demo/vod-0.mp4&range=9-1`)).status, 400);
    for (const q of ['player=dash.js&protocol=dash', 'player=shaka&protocol=hls&vod=1', 'player=video.js&protocol=dash']) {
      assert.equal((await httpGet(`${a.playerUrl}?${q}`)).status, 200, q);
    }
    assert.match((await httpGet(`${a.playerUrl}?player=dash.js&vod=1`)).body.toString(), /"\/vod\/demo\/stream\.mpd"/);
    assert.equal((await httpGet(`${a.playerUrl}?player=hls.js&protocol=dash`)).status, 400);
    assert.equal((await httpGet(`${a.playerUrl}?player=flash`)).status, 400);
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
