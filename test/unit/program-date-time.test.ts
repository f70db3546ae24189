import assert from 'node:assert/strict';
import { test } from 'node:test';
import { segmentStartTimes, withProgramDateTime } from '../../origin-adapter/program-date-time.js';

const MPD = `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-12-04T20:21:44Z" timeShiftBufferDepth="PT12.0S">
  <Period id="0" start="PT0.0S">
    <AdaptationSet id="0" contentType="video">
      <Representation id="0" mimeType="video/mp4" bandwidth="250000">
        <SegmentTemplate timescale="12800" initialization="init-e0-$RepresentationID$.m4s" media="chunk-e0-$RepresentationID$-$Number%06d$.m4s" startNumber="63">
          <SegmentTimeline><S t="1587200" d="25600" r="2" /></SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="1" contentType="audio">
      <Representation id="1" mimeType="audio/mp4" bandwidth="64000">
        <SegmentTemplate timescale="48000" media="chunk-e0-$RepresentationID$-$Number%06d$.m4s" startNumber="63">
          <SegmentTimeline><S t="5952512" d="96256" /><S d="95232" /><S d="96256" /></SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>`;

const AST = Date.parse('2026-12-04T20:21:44Z');

test('segment start times: availabilityStartTime plus the timeline, per file name, for audio and video alike', () => {
  const t = segmentStartTimes(MPD);
  assert.equal(t.get('chunk-e0-0-000063.m4s'), AST + 124_000);
  assert.equal(t.get('chunk-e0-0-000064.m4s'), AST + 126_000);
  assert.equal(t.get('chunk-e0-0-000065.m4s'), AST + 128_000);
  assert.equal(t.size, 6);
  const audio = t.get('chunk-e0-1-000063.m4s');
  assert.ok(audio !== undefined && Math.abs(audio - (AST + 124_000)) < 20, 'audio starts with video');
  assert.equal(t.get('chunk-e0-1-000064.m4s'), AST + ((5952512 + 96256) / 48000) * 1000);
  for (const bad of ['', 'not xml <', MPD.replace('dynamic', 'static'), MPD.replace(/availabilityStartTime="[^"]*"/, ''), MPD.replace('d="25600"', 'd="0"'), MPD.replace('%06d', '%099d')]) {
    const r = segmentStartTimes(bad);
    assert.ok(r.size === 0 || r.size === 3, `junk gives nothing (or only the other representation): ${r.size}`);
  }
});

test('EXT-X-PROGRAM-DATE-TIME goes before each dated segment; undated ones, masters and tagged playlists are left alone', () => {
  const playlist = [
    '#EXTM3U',
    '#EXT-X-VERSION:6',
    '#EXT-X-TARGETDURATION:2',
    '#EXT-X-MEDIA-SEQUENCE:63',
    '#EXT-X-MAP:URI="init-e0-0.m4s"',
    '#EXTINF:2.000000,',
    'chunk-e0-0-000063.m4s',
    '#EXTINF:2.000000,',
    'chunk-e0-0-000064.m4s',
    '#EXTINF:2.000000,',
    'chunk-e0-0-000099.m4s',
    '',
  ].join('\n');
  const out = withProgramDateTime(playlist, segmentStartTimes(MPD));
  assert.equal(
    out,
    [
      '#EXTM3U',
      '#EXT-X-VERSION:6',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:63',
      '#EXT-X-MAP:URI="init-e0-0.m4s"',
      '#EXT-X-PROGRAM-DATE-TIME:2026-12-04T20:23:48.000Z',
      '#EXTINF:2.000000,',
      'chunk-e0-0-000063.m4s',
      '#EXT-X-PROGRAM-DATE-TIME:2026-12-04T20:23:50.000Z',
      '#EXTINF:2.000000,',
      'chunk-e0-0-000064.m4s',
      '#EXTINF:2.000000,',
      'chunk-e0-0-000099.m4s',
      '',
    ].join('\n'),
  );
  assert.equal(withProgramDateTime(out, segmentStartTimes(MPD)), out, 'a playlist that has the tag is not tagged again');
  assert.equal(withProgramDateTime(playlist, new Map()), playlist);
  const master = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nmedia_0.m3u8\n';
  assert.equal(withProgramDateTime(master, segmentStartTimes(MPD)), master);
});
