// A broadcast across its source's reconnects: ffmpeg's per-run MPDs read, one timeline of
// segments, the HLS playlists and the DASH MPD written from it (and read back by the worker's own
// parsers), and the on-air state machine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEpochMpd, type EpochManifest } from '../../origin-adapter/broadcast/epoch-mpd.js';
import { renderMpd } from '../../origin-adapter/broadcast/dash-render.js';
import { renderMaster, renderMediaPlaylist } from '../../origin-adapter/broadcast/hls-render.js';
import { INITIAL_STATE, nextState, type BroadcastEvent } from '../../origin-adapter/broadcast/state.js';
import { Timeline } from '../../origin-adapter/broadcast/timeline.js';
import { parseMpd } from '../../sw/manifest/dash-mpd.js';
import { parsePlaylist } from '../../sw/manifest/hls-playlist.js';

/** What ffmpeg 4.1's dash muxer writes for run `e` while live (a copied H.264/AAC push), listing segments `from`..`to`. */
function ffmpegMpd(e: number, from: number, to: number, ast = '2026-01-01T00:00:10Z'): string {
  const n = to - from + 1;
  return `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" minimumUpdatePeriod="PT2S"
  suggestedPresentationDelay="PT2S" availabilityStartTime="${ast}" publishTime="2026-01-01T00:01:00Z" timeShiftBufferDepth="PT6.0S" minBufferTime="PT4.0S">
 <Period id="0" start="PT0.0S">
  <AdaptationSet id="0" contentType="video" segmentAlignment="true" bitstreamSwitching="true">
   <Representation id="0" mimeType="video/mp4" codecs="avc1.640014" bandwidth="500000" width="320" height="180" frameRate="25/1">
    <SegmentTemplate timescale="12800" initialization="init-e${e}-$RepresentationID$.m4s" media="chunk-e${e}-$RepresentationID$-$Number%06d$.m4s" startNumber="${from}">
     <SegmentTimeline><S t="${269 + (from - 1) * 25600}" d="25600" r="${n - 1}" /></SegmentTimeline>
    </SegmentTemplate>
   </Representation>
  </AdaptationSet>
  <AdaptationSet id="1" contentType="audio" segmentAlignment="true" bitstreamSwitching="true">
   <Representation id="1" mimeType="audio/mp4" codecs="mp4a.40.2" bandwidth="64000" audioSamplingRate="48000">
    <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="1" />
    <SegmentTemplate timescale="48000" initialization="init-e${e}-$RepresentationID$.m4s" media="chunk-e${e}-$RepresentationID$-$Number%06d$.m4s" startNumber="${from}">
     <SegmentTimeline><S t="${(from - 1) * 96000}" d="96000" r="${n - 1}" /></SegmentTimeline>
    </SegmentTemplate>
   </Representation>
  </AdaptationSet>
 </Period>
</MPD>`;
}

function epoch(e: number, from: number, to: number, ast?: string): EpochManifest {
  const m = parseEpochMpd(ffmpegMpd(e, from, to, ast));
  assert.ok(m);
  return m;
}

const NOW = Date.parse('2026-01-01T00:02:00Z');

test("ffmpeg's MPD: the run's clock, each representation's attributes and its segments by number", () => {
  const m = epoch(3, 4, 6);
  assert.equal(m.astMs, Date.parse('2026-01-01T00:00:10Z'));
  assert.deepEqual(m.reps.map((r) => [r.id, r.contentType, r.codecs, r.width, r.init]), [['0', 'video', 'avc1.640014', 320, 'init-e3-0.m4s'], ['1', 'audio', 'mp4a.40.2', undefined, 'init-e3-1.m4s']]);
  assert.deepEqual(m.reps[0]?.segments.map((s) => [s.number, s.name]), [[4, 'chunk-e3-0-000004.m4s'], [5, 'chunk-e3-0-000005.m4s'], [6, 'chunk-e3-0-000006.m4s']]);
  assert.equal(m.reps[1]?.channels, '1');
  assert.equal(parseEpochMpd('<not xml'), undefined);
  assert.equal(parseEpochMpd('<MPD/>'), undefined);
});

test('timeline: media sequence continues across runs, a discontinuity marks each, and the window stays while the source is away', () => {
  const tl = new Timeline({ windowSegments: 4, graceSegments: 2 });
  tl.update(0, epoch(0, 1, 3), NOW);
  tl.update(0, epoch(0, 2, 5), NOW); // ffmpeg's window slid: 1 is gone from its MPD, kept here
  tl.end(0);
  // While away: the same window, unchanged.
  const away = renderMediaPlaylist(tl, '0', 2);
  assert.ok(away?.includes('#EXT-X-MEDIA-SEQUENCE:2') && !away.includes('#EXT-X-ENDLIST'));
  tl.update(1, epoch(1, 1, 2, '2026-01-01T00:00:40Z'), NOW);
  const hls = renderMediaPlaylist(tl, '0', 2) ?? '';
  const parsed = parsePlaylist(hls, 'http://h/live/demo/media_0.m3u8');
  assert.ok(parsed.ok && parsed.value.kind === 'media');
  assert.deepEqual(parsed.value.segments.map((s) => [s.seq, s.url.split('/').pop()]), [
    [4, 'chunk-e0-0-000004.m4s'], [5, 'chunk-e0-0-000005.m4s'], [6, 'chunk-e1-0-000001.m4s'], [7, 'chunk-e1-0-000002.m4s'],
  ]);
  assert.match(hls, /chunk-e0-0-000005\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-e1-0\.m4s"\n#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:40\.021Z/);
  assert.match(hls, /#EXT-X-DISCONTINUITY-SEQUENCE:0/);
  // Run 0 slides out: its discontinuity is counted, its files may go (after the grace segments).
  tl.update(1, epoch(1, 1, 8, '2026-01-01T00:00:40Z'), NOW);
  const later = renderMediaPlaylist(tl, '0', 2) ?? '';
  assert.match(later, /#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n#EXT-X-MAP:URI="init-e1-0\.m4s"/);
  assert.ok(!later.includes('#EXT-X-DISCONTINUITY\n'));
  assert.deepEqual(tl.prune(), [0]);
  assert.deepEqual(tl.epochNumbers(), [1]);
});

test('timeline: a run that never produced a segment leaves no trace in the numbering', () => {
  const tl = new Timeline({ windowSegments: 4, graceSegments: 2 });
  tl.update(0, epoch(0, 1, 2), NOW);
  tl.update(1, { astMs: undefined, reps: [] }, NOW);
  tl.update(2, epoch(2, 1, 1), NOW);
  const seqs = tl.window('0').flatMap((g) => g.segments.map((s) => s.seq));
  assert.deepEqual(seqs, [1, 2, 3]);
  assert.deepEqual(tl.window('0').map((g) => g.ordinal), [0, 1]);
});

test('DASH: one Period per run, each starting where the one before ends, read back by the worker as live segments', () => {
  const tl = new Timeline({ windowSegments: 4, graceSegments: 2 });
  tl.update(0, epoch(0, 1, 3), NOW);
  tl.end(0);
  tl.update(1, epoch(1, 1, 2, '2026-01-01T00:01:00Z'), NOW);
  const mpd = renderMpd(tl, { segmentSec: 2, windowSegments: 4, presentationDelaySec: 6 }, NOW) ?? '';
  assert.match(mpd, /type="dynamic"/);
  assert.match(mpd, /availabilityStartTime="2026-01-01T00:00:10\.000Z"/);
  const periods = [...mpd.matchAll(/<Period id="(e\d+)" start="PT([\d.]+)S"/g)].map((m) => [m[1], Number(m[2])]);
  // Run 0's media ends at 3 x 2 s (+ the video's 21 ms offset): run 1 starts there, not 50 s later.
  assert.deepEqual(periods, [['e0', 0], ['e1', 6.021]]);
  // Each Period starts at its run's earliest media time (the audio's 0), the same for both, so audio and video keep their offset.
  assert.deepEqual([...mpd.matchAll(/presentationTimeOffset="(\d+)"/g)].map((m) => m[1]), ['0', '0', '0', '0']);
  const parsed = parseMpd(mpd, 'http://h/live/demo/stream.mpd', NOW);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
  assert.ok(parsed.value.live);
  const names = parsed.value.representations.map((r) => [r.swarm.split('#')[1], r.segments.map((s) => s.url.split('/').pop())]);
  assert.deepEqual(names, [
    ['e0/0/0', ['chunk-e0-0-000002.m4s', 'chunk-e0-0-000003.m4s']],
    ['e0/1/1', ['chunk-e0-1-000002.m4s', 'chunk-e0-1-000003.m4s']],
    ['e1/0/0', ['chunk-e1-0-000001.m4s', 'chunk-e1-0-000002.m4s']],
    ['e1/1/1', ['chunk-e1-1-000001.m4s', 'chunk-e1-1-000002.m4s']],
  ]);
  assert.equal(renderMpd(new Timeline({ windowSegments: 4, graceSegments: 2 }), { segmentSec: 2, windowSegments: 4, presentationDelaySec: 6 }, NOW), undefined);
});

test('HLS master: the video variant with the audio group, codecs and resolution; read back by the worker', () => {
  const tl = new Timeline({ windowSegments: 4, graceSegments: 2 });
  tl.update(0, epoch(0, 1, 3), NOW);
  const master = renderMaster(tl.reps());
  assert.match(master, /#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio".*URI="media_1\.m3u8"/);
  assert.match(master, /#EXT-X-STREAM-INF:BANDWIDTH=564000,RESOLUTION=320x180,CODECS="avc1\.640014,mp4a\.40\.2",AUDIO="audio"\nmedia_0\.m3u8/);
  const parsed = parsePlaylist(master, 'http://h/live/demo/master.m3u8');
  assert.ok(parsed.ok && parsed.value.kind === 'master');
  assert.deepEqual(parsed.value.variants.map((u) => u.split('/').pop()).sort(), ['media_0.m3u8', 'media_1.m3u8']);
});

test('state: waiting, starting, live, offline and back, and a source that left before its first segment', () => {
  const run = (evs: BroadcastEvent[]) => evs.reduce((s, ev, i) => nextState(s, ev, i + 1), INITIAL_STATE);
  assert.equal(run(['source-connected']).state, 'starting');
  assert.deepEqual(run(['source-connected', 'segments']), { state: 'live', sinceMs: 2, runs: 1 });
  assert.equal(run(['source-connected', 'segments', 'source-gone']).state, 'offline');
  assert.equal(run(['source-connected', 'source-gone']).state, 'waiting', 'never was live');
  assert.equal(run(['source-connected', 'segments', 'source-gone', 'source-connected', 'source-gone']).state, 'offline');
  const back = run(['source-connected', 'segments', 'source-gone', 'source-connected', 'segments']);
  assert.deepEqual([back.state, back.runs, back.sinceMs], ['live', 2, 5]);
  assert.equal(run(['segments']).state, 'waiting', 'segments without a source change nothing');
});
