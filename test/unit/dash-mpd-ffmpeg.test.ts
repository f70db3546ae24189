/** The DASH parser on MPDs ffmpeg wrote (fixtures captured with the files on disk), and fuzzed. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseMpd, type DashRepresentation, type Mpd } from '../../sw/manifest/dash-mpd.js';
import { AST, AST_MS, MPD_URL, parse } from './dash-mpd-helpers.js';
import { parsePlaylist } from '../../sw/manifest/hls-playlist.js';


const seqs = (r: DashRepresentation | undefined): number[] => (r?.segments ?? []).map((s) => s.seq);

const FIX = new URL('../fixtures/dash/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIX), 'utf8');
const ORIGIN_DIR = 'http://origin.test/live/demo/';
const fileOf = (u: string): string => {
  assert.ok(u.startsWith(ORIGIN_DIR), u);
  return u.slice(ORIGIN_DIR.length);
};

test('fuzz: parseMpd never throws, on arbitrary text or on mutated ffmpeg MPDs', () => {
  const seeds = ['live-timeline', 'live-number', 'vod', 'vod-single-file'].map((d) => fixture(`${d}/manifest.mpd`));
  const check = (text: string, nowMs: number): void => {
    const r = parseMpd(text, MPD_URL, nowMs);
    if (!r.ok) return;
    assert.ok(r.value.representations.length <= 64);
    for (const rep of r.value.representations) assert.ok(rep.segments.length <= 20_000);
  };
  const now = fc.integer({ min: 0, max: 4_000_000_000_000 });
  fc.assert(fc.property(fc.string({ maxLength: 300 }), now, (s, n) => check(s, n)), { numRuns: 300 });
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('<', '>', '/', '"', '=', ' ', 'MPD', 'S', 'd', 'r', '$', '&', '-1', '9'), maxLength: 80 }), (s) => check(`<MPD>${s}</MPD>`, 0)), { numRuns: 300 });
  const token = fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.constantFrom('-1', '0', '1e308', '99999999999999999999', 'PT-1S', 'P9999999Y', '$Number%099d$', '&amp;', '<S/>', '"', 'r="-1"', 'NaN'),
  );
  const mutation = fc.record({ seed: fc.integer({ min: 0, max: seeds.length - 1 }), at: fc.nat(), cut: fc.nat({ max: 20 }), insert: token });
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), now, (ms, n) => {
      let text = seeds[ms[0]?.seed ?? 0] ?? '';
      for (const m of ms) {
        const at = m.at % (text.length + 1);
        text = text.slice(0, at) + m.insert + text.slice(at + m.cut);
      }
      check(text, n);
    }),
    { numRuns: 400 },
  );
});

interface Capture {
  readonly capturedAtMs?: number;
  readonly files: readonly string[] | Readonly<Record<string, number>>;
}
const capture = (dir: string): Capture => JSON.parse(fixture(`${dir}/files.json`)) as Capture;
const complete = (c: Capture): Set<string> => new Set((Array.isArray(c.files) ? c.files : Object.keys(c.files)).filter((f) => !f.endsWith('.tmp')));

test('ffmpeg 4.1 live, SegmentTimeline: URLs are the files on disk and match its HLS playlists', () => {
  const c = capture('live-timeline');
  const m = parse(fixture('live-timeline/manifest.mpd'), c.capturedAtMs, `${ORIGIN_DIR}manifest.mpd`);
  assert.equal(m.live, true);
  assert.equal(m.minimumUpdatePeriodSec, 2);
  assert.deepEqual(m.representations.map((r) => [r.swarm.split('#')[1], r.mimeType, r.bandwidth]), [
    ['0/0/0', 'video/mp4', 300000],
    ['0/0/1', 'video/mp4', 600000],
    ['0/1/2', 'audio/mp4', 64000],
  ]);
  const onDisk = complete(c);
  for (const [i, r] of m.representations.entries()) {
    assert.equal(r.segments.length, 6, 'window_size 6');
    for (const s of [...r.segments, r.init]) assert.ok(s && onDisk.has(fileOf(s.url)), s?.url);
    // The playlist ffmpeg wrote at the same moment (-hls_playlist 1) lists the same segments.
    const pl = parsePlaylist(fixture(`live-timeline/media_${i}.m3u8`), `${ORIGIN_DIR}media_${i}.m3u8`);
    assert.ok(pl.ok && pl.value.kind === 'media');
    if (!pl.ok || pl.value.kind !== 'media') continue;
    assert.deepEqual(r.segments.map((s) => [s.id, s.seq]), pl.value.segments.map((s) => [s.id, s.seq]));
    assert.equal(r.init?.id, pl.value.inits[0]?.id);
    for (const [k, s] of r.segments.entries()) assert.ok(Math.abs(s.durationSec - (pl.value.segments[k]?.durationSec ?? 0)) < 0.001);
  }
  // The newest segment being written (a .tmp at capture time) is not listed yet.
  const newest = Math.max(...m.representations.flatMap(seqs));
  assert.ok((Array.isArray(c.files) ? c.files : []).some((f) => f.endsWith(`-${String(newest + 1).padStart(5, '0')}.mp4.tmp`)));
});

test('ffmpeg 4.1 live, $Number$ without timeline: the clock gives exactly the complete files of the window', () => {
  const c = capture('live-number');
  const m = parse(fixture('live-number/manifest.mpd'), c.capturedAtMs, `${ORIGIN_DIR}manifest.mpd`);
  assert.equal(m.live, true);
  const onDisk = complete(c);
  for (const r of m.representations) {
    assert.equal(r.segments.length, 6, 'timeShiftBufferDepth 12 s / 2 s');
    for (const s of [...r.segments, r.init]) assert.ok(s && onDisk.has(fileOf(s.url)), s?.url);
    const rid = r.swarm.split('/').pop() ?? '';
    const newestOnDisk = Math.max(...[...onDisk].filter((f) => f.startsWith(`chunk-stream${rid}-`)).map((f) => Number(f.slice(-9, -4))));
    assert.equal(r.segments.at(-1)?.seq, newestOnDisk);
  }
});

test('ffmpeg 4.1 VOD (static, SegmentTimeline): every chunk file exactly once', () => {
  const c = capture('vod');
  const m = parse(fixture('vod/manifest.mpd'), 0, `${ORIGIN_DIR}manifest.mpd`);
  assert.equal(m.live, false);
  const listed = m.representations.flatMap((r) => [...r.segments, r.init]).map((s) => fileOf(s?.url ?? ''));
  const media = [...complete(c)].filter((f) => f.endsWith('.mp4'));
  assert.deepEqual([...listed].sort(), media.sort());
  const total = (r: DashRepresentation | undefined): number => (r?.segments ?? []).reduce((a, s) => a + s.durationSec, 0);
  assert.ok(Math.abs(total(m.representations[0]) - 9) < 0.001);
  const pl = parsePlaylist(fixture('vod/media_0.m3u8'), `${ORIGIN_DIR}media_0.m3u8`);
  assert.ok(pl.ok && pl.value.kind === 'media' && !pl.value.live);
  if (pl.ok && pl.value.kind === 'media') assert.deepEqual(m.representations[0]?.segments.map((s) => s.id), pl.value.segments.map((s) => s.id));
});

test('ffmpeg 4.1 VOD -single_file 1: byte ranges tile each file', () => {
  const c = capture('vod-single-file');
  const sizes = c.files as Readonly<Record<string, number>>;
  const m = parse(fixture('vod-single-file/manifest.mpd'), 0, `${ORIGIN_DIR}manifest.mpd`);
  assert.equal(m.representations.length, 3);
  for (const r of m.representations) {
    const parts = [r.init, ...r.segments];
    const file = fileOf(r.init?.url ?? '');
    assert.ok(parts.every((s) => s?.url === r.init?.url));
    let next = 0;
    for (const s of parts) {
      assert.equal(s?.range?.start, next);
      next = (s?.range?.end ?? Number.NaN) + 1;
    }
    assert.equal(next, sizes[file], file);
  }
});
