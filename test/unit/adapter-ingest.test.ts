// The RTMP ingest in Node, with a real ffmpeg pushing: refusals, a second pusher, hostile
// connections, a source that leaves and comes back, and nothing left behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startAdapter, type Adapter } from '../../origin-adapter/index.js';
import { defaultFfmpegPath } from '../../origin-adapter/live-source.js';
import { startIngestServer, type PublishSink } from '../../origin-adapter/rtmp/ingest-server.js';
import { startPusher } from '../../e2e/support/pusher.js';

const KEY = 'test-stream-key-1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const get = async (a: Adapter, path: string) => {
  const r = await fetch(a.url + path);
  return { status: r.status, text: await r.text(), hashes: r.headers.get('x-relaycast-hashes') ?? '' };
};
const pushUrl = (a: Adapter, name: string) => `rtmp://127.0.0.1:${a.ingestPort ?? 0}/live/${name}`;

/** This process's children whose command line mentions `needle` (other work on the machine may run its own). */
async function ffmpegPids(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const ppid = Number((await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '')).split(') ')[1]?.split(' ')[1]);
    if (cmd.includes(needle) && ppid === process.pid) out.push(Number(name));
  }
  return out;
}

test('ingest: waiting, then live from a push with the key; a wrong key and a second pusher are refused while the stream goes on', { timeout: 120_000 }, async () => {
  const logs: string[] = [];
  const a = await startAdapter({ port: 0, ingest: 'rtmp', ingestPort: 0, streamKey: KEY, log: (l) => logs.push(l) });
  assert.deepEqual(await ffmpegPids('relaycast-broadcast-'), [], 'no ffmpeg before a push');
  const pushers = [];
  try {
    assert.equal(a.broadcast()?.state, 'waiting');
    assert.equal((await get(a, '/live/demo/master.m3u8')).status, 404);
    assert.match((await get(a, '/watch/demo')).text, /"state":"waiting"/);
    const first = await startPusher({ url: pushUrl(a, `demo?key=${KEY}`) });
    pushers.push(first);
    await until('live', () => (a.broadcast()?.state === 'live' ? true : undefined));
    const master = await get(a, '/live/demo/master.m3u8');
    assert.equal(master.status, 200);
    assert.match(master.text, /CODECS="avc1\.[0-9a-f]+,mp4a\.40\.2"/);
    const before = await get(a, '/live/demo/media_0.m3u8');
    assert.match(before.hashes, /chunk-e0-0-\d+\.m4s=/, 'listed segments carry their hashes');

    const wrong = await startPusher({ url: pushUrl(a, 'demo?key=not-the-key') });
    const second = await startPusher({ url: pushUrl(a, KEY) });
    pushers.push(wrong, second);
    assert.notEqual(await wrong.exited, 0, 'a wrong key is refused');
    assert.notEqual(await second.exited, 0, 'a second pusher is refused');
    assert.match(wrong.stderr() + second.stderr(), /wrong stream key[\s\S]*already live|already live[\s\S]*wrong stream key/);
    const seqOf = (t: string) => Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(t)?.[1]);
    await until('the stream goes on', async () => (seqOf((await get(a, '/live/demo/media_0.m3u8')).text) > seqOf(before.text) ? true : undefined));
    assert.equal(a.broadcast()?.state, 'live');
    assert.equal(first.process.exitCode, null, 'the first pusher still pushes');
    assert.ok(logs.some((l) => /refused a push .*wrong stream key/.test(l)) && logs.some((l) => /refused a second push/.test(l)), logs.join('\n'));
  } finally {
    await Promise.all(pushers.map((p) => p.stop()));
    await a.close();
  }
  assert.deepEqual(await ffmpegPids('relaycast-broadcast-'), [], 'no ffmpeg left');
});

test('ingest: the source leaves (playlists stay, offline) and returns (same stream, after a discontinuity); close removes everything', { timeout: 120_000 }, async () => {
  const a = await startAdapter({ port: 0, ingest: 'rtmp', ingestPort: 0, streamKey: KEY, log: () => undefined });
  try {
    const p1 = await startPusher({ url: pushUrl(a, KEY) });
    await until('live', () => (a.broadcast()?.state === 'live' ? true : undefined));
    await sleep(4000);
    await p1.stop();
    await until('offline', () => (a.broadcast()?.state === 'offline' ? true : undefined));
    const away = await get(a, '/live/demo/media_0.m3u8');
    assert.equal(away.status, 200, 'the playlist stays valid');
    assert.ok(!away.text.includes('#EXT-X-ENDLIST'), 'and does not end the stream');
    await sleep(2500);
    assert.equal((await get(a, '/live/demo/media_0.m3u8')).text, away.text, 'nothing changes while the source is away');
    assert.deepEqual(await ffmpegPids('relaycast-broadcast-'), [], 'the run ended with its source');
    const p2 = await startPusher({ url: pushUrl(a, KEY) });
    await until('live again', () => (a.broadcast()?.state === 'live' ? true : undefined));
    const back = await until('the new run listed', async () => {
      const t = (await get(a, '/live/demo/media_0.m3u8')).text;
      return t.includes('chunk-e1-0-') ? t : undefined;
    });
    assert.match(back, /chunk-e0-0-\d+\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-e1-0\.m4s"/);
    const mpd = (await get(a, '/live/demo/stream.mpd')).text;
    assert.match(mpd, /<Period id="e0"[\s\S]*<Period id="e1"/);
    await p2.stop();
  } finally {
    await a.close();
  }
  const tmp = await readdir('/tmp');
  assert.ok(!tmp.some((n) => n.startsWith('relaycast-broadcast-') && existsSync(`/tmp/${n}/e0`)), 'temp dirs removed');
});

test('ingest server: bounded per address, a deadline to publish, garbage closed, nothing reaches the target', { timeout: 30_000 }, async () => {
  let claims = 0;
  const target = {
    stream: 'demo',
    key: KEY,
    claim: (): PublishSink | undefined => {
      claims++;
      return undefined;
    },
  };
  const srv = await startIngestServer({ host: '127.0.0.1', port: 0, target, log: () => undefined, limits: { publishWithinMs: 300, connectionsPerAddress: 2 } });
  const open = () =>
    new Promise<{ closedIn: Promise<number>; write: (b: Buffer) => void }>((resolve) => {
      const t0 = Date.now();
      const s = connect(srv.port, '127.0.0.1');
      const closedIn = new Promise<number>((r) => s.on('close', () => r(Date.now() - t0)));
      s.on('connect', () => resolve({ closedIn, write: (b) => s.write(b) }));
      s.on('error', () => undefined);
      s.resume(); // read what the server sends, so its FIN is seen
    });
  try {
    const idle = [await open(), await open()];
    const third = await open();
    assert.ok((await third.closedIn) < 250, 'a third connection from one address is closed at once');
    for (const c of idle) assert.ok((await c.closedIn) >= 250, 'a connection that never publishes is closed at its deadline');
    // A byte now and then does not extend the deadline to publish. (First the server sees the
    // two closed connections go: their slots of the address are free again.)
    await sleep(300);
    const trickle = await open();
    trickle.write(Buffer.from([3]));
    const drip = setInterval(() => trickle.write(Buffer.alloc(1)), 100);
    const trickled = await trickle.closedIn;
    clearInterval(drip);
    assert.ok(trickled >= 250 && trickled < 2000, `a trickling connection is closed at its deadline (${trickled} ms)`);
    const garbage = await open();
    garbage.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.ok((await garbage.closedIn) < 250, 'not RTMP: closed');
    const random = await open();
    random.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536 * 2, 0xff), Buffer.alloc(5000, 0x41)]));
    await random.closedIn;
    assert.equal(claims, 0, 'nothing but a valid, authorized publish reaches the broadcast');
  } finally {
    await srv.close();
  }
});

test('--input: a file played in a loop, and another adapter\'s HLS stream, each published as the live stream', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'relaycast-input-test-'));
  const file = join(dir, 'clip.mp4');
  const ff = spawnSync(await defaultFfmpegPath(), [
    '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
    '-t', '4', '-c:v', 'libx264', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-y', file,
  ]);
  assert.equal(ff.status, 0, String(ff.stderr));
  const looped = await startAdapter({ port: 0, input: file, loop: true, log: () => undefined });
  const once = await startAdapter({ port: 0, input: file, log: () => undefined });
  const source = await startAdapter({ port: 0, vodSec: 0, log: () => undefined });
  let relay: Adapter | undefined;
  try {
    // Without --loop the broadcast ends with the file, and is not started again.
    await until('the file played once, then offline', () => (once.broadcast()?.state === 'offline' ? true : undefined), 60_000);
    await sleep(2500);
    assert.equal(once.broadcast()?.state, 'offline');
    assert.equal((await get(once, '/live/demo/media_0.m3u8')).status, 200, 'its playlist stays');
    // 4 s of file are two segments: a playlist past the fourth segment has played it more than once.
    await until('the file looped', async () => (Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec((await get(looped, '/live/demo/media_0.m3u8')).text)?.[1] ?? 0) >= 3 ? true : undefined), 60_000);
    assert.equal(looped.broadcast()?.state, 'live');
    relay = await startAdapter({ port: 0, input: `${source.url}/live/demo/master.m3u8`, log: () => undefined });
    const r = relay;
    await until('the HLS input live', () => (r.broadcast()?.state === 'live' ? true : undefined), 60_000);
    assert.match((await get(r, '/live/demo/master.m3u8')).text, /#EXT-X-STREAM-INF/);
  } finally {
    await Promise.all([looped.close(), once.close(), source.close(), relay?.close()]);
    await rm(dir, { recursive: true, force: true });
  }
});
