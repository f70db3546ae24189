// ffmpeg's command lines: a broadcast run (copy by default, a ladder on request, inputs read in
// real time only when they are files) and the test pusher (what OBS sends, its clock burned in).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { epochArgs, isRealtimeSource } from '../../origin-adapter/broadcast/epoch-args.js';
import { pusherArgs } from '../../e2e/support/pusher.js';

const base = { dir: '/tmp/b', epoch: 3, segmentSec: 2, listSegments: 10 } as const;
const after = (args: readonly string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

test('a run copies the pushed H.264/AAC from stdin into its own directory, names carrying its epoch', () => {
  const a = epochArgs({ ...base, input: { kind: 'stdin' }, renditions: 1 });
  assert.equal(after(a, '-f'), 'flv');
  assert.equal(after(a, '-i'), 'pipe:0');
  assert.equal(after(a, '-c'), 'copy');
  assert.ok(!a.includes('libx264'), 'nothing is encoded');
  assert.ok(!a.includes('-re'), 'a push is real time already');
  assert.equal(after(a, '-hls_playlist'), '0', "the adapter writes the HLS playlists, not ffmpeg");
  assert.equal(after(a, '-media_seg_name'), 'chunk-e3-$RepresentationID$-$Number%06d$.m4s');
  assert.equal(a[a.length - 1], '/tmp/b/e3/stream.mpd');
});

test('renditions 3: the source copied plus two rungs encoded from it, keyframes on segment boundaries', () => {
  const a = epochArgs({ ...base, input: { kind: 'stdin' }, renditions: 3 });
  assert.match(after(a, '-filter_complex') ?? '', /split=2.*scale=-2:trunc\(ih\/4\)\*2.*scale=-2:trunc\(ih\/8\)\*2/);
  assert.equal(after(a, '-c:v:0'), 'copy');
  assert.equal(after(a, '-c:v:1'), 'libx264');
  assert.equal(after(a, '-force_key_frames:v:2'), 'expr:gte(t,n_forced*2)');
});

test('inputs: files in real time (and looped), live sources as they come', () => {
  const file = epochArgs({ ...base, input: { kind: 'input', input: '/media/talk.mp4', loop: true }, renditions: 1 });
  assert.ok(file.includes('-re'));
  assert.equal(after(file, '-stream_loop'), '-1');
  assert.equal(after(file, '-i'), '/media/talk.mp4');
  for (const live of ['rtsp://cam/1', 'rtmp://h/live/x', 'https://h/live/index.m3u8', 'https://h/x.mpd?t=1']) assert.ok(isRealtimeSource(live), live);
  assert.ok(!isRealtimeSource('https://h/files/talk.mp4'));
});

test('the test pusher: FLV over RTMP, H.264 CBR with 2 s keyframes, AAC 48 kHz, and with `clock` the clock strip overlaid', () => {
  const plain = pusherArgs({ url: 'rtmp://127.0.0.1:1935/live/k' });
  assert.equal(after(plain, '-g'), '50');
  assert.equal(after(plain, '-keyint_min'), '50');
  assert.equal(after(plain, '-c:a'), 'aac');
  assert.equal(after(plain, '-ar'), '48000');
  assert.equal(plain[plain.length - 1], 'rtmp://127.0.0.1:1935/live/k');
  assert.ok(!plain.includes('-filter_complex'));
  const clock = pusherArgs({ url: 'rtmp://x/live/k', clock: true });
  assert.match(after(clock, '-filter_complex') ?? '', /setpts=RTCTIME,geq=.*overlay=0:0/);
});
