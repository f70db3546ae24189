import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMpd, type DashRepresentation, type Mpd } from '../../sw/manifest/dash-mpd.js';
import { AST, AST_MS, MPD_URL, parse } from './dash-mpd-helpers.js';
import { expandTemplate } from '../../sw/manifest/dash-template.js';
import { parseDateTimeMs, parseIsoDurationSec } from '../../sw/manifest/dash-time.js';

const reason = (text: string, nowMs = AST_MS): string => {
  const r = parseMpd(text, MPD_URL, nowMs);
  assert.ok(!r.ok, 'expected a parse failure');
  return r.reason;
};
const urls = (r: DashRepresentation | undefined): string[] => (r?.segments ?? []).map((s) => s.url);
const seqs = (r: DashRepresentation | undefined): number[] => (r?.segments ?? []).map((s) => s.seq);
const mpd = (attrs: string, body: string): string =>
  `<?xml version="1.0" encoding="utf-8"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" ${attrs}>${body}</MPD>`;
const STATIC = 'type="static" mediaPresentationDuration="PT8S"';

test('ISO 8601 durations', () => {
  const cases: [string, number | undefined][] = [
    ['PT1H2M3.5S', 3723.5],
    ['P0D', 0],
    ['PT0S', 0],
    ['PT12.0S', 12],
    ['PT2S', 2],
    ['P1DT1S', 86_401],
    ['P1W', 604_800],
    ['P1Y2M', 365 * 86_400 + 60 * 86_400],
    ['PT1.S', 1],
    ['P', undefined],
    ['PT', undefined],
    ['P1DT', undefined],
    ['-PT1S', undefined],
    ['PT1H2S3M', undefined],
    ['1S', undefined],
    ['PT1e3S', undefined],
    ['', undefined],
  ];
  for (const [s, v] of cases) assert.equal(parseIsoDurationSec(s), v, s);
  assert.equal(parseDateTimeMs('2024-01-01T00:00:00Z'), AST_MS);
  assert.equal(parseDateTimeMs('2024-01-01T00:00:00'), AST_MS, 'no zone = UTC');
  assert.equal(parseDateTimeMs('2024-01-01T01:00:00+01:00'), AST_MS);
  assert.equal(parseDateTimeMs('yesterday'), undefined);
});

test('template identifiers: $RepresentationID$ $Number$ widths $Time$ $Bandwidth$ $$', () => {
  const v = { RepresentationID: 'v1', Number: 42, Time: 90000, Bandwidth: 300000 };
  assert.equal(expandTemplate('$RepresentationID$/$Number$.m4s', v), 'v1/42.m4s');
  assert.equal(expandTemplate('seg-$Number%05d$.m4s', v), 'seg-00042.m4s');
  assert.equal(expandTemplate('seg-$Number%01d$', v), 'seg-42');
  assert.equal(expandTemplate('t$Time$-b$Bandwidth$', v), 't90000-b300000');
  assert.equal(expandTemplate('$Time%08x$/$Number%03X$', v), '00015f90/02A');
  assert.equal(expandTemplate('cost$$5-$Number$', v), 'cost$5-42');
  assert.equal(expandTemplate('no-identifiers', v), 'no-identifiers');
  assert.equal(expandTemplate('$Number', v), undefined, 'unclosed');
  assert.equal(expandTemplate('$Foo$', v), undefined, 'unknown identifier');
  assert.equal(expandTemplate('$RepresentationID%05d$', v), undefined, 'format tag on RepresentationID');
  assert.equal(expandTemplate('$Number%099d$', v), undefined, 'absurd width');
  assert.equal(expandTemplate('$Time$', { RepresentationID: 'x' }), undefined, 'missing value');
});

test('BaseURL chain: MPD, Period, AdaptationSet, Representation; absolute and relative', () => {
  const text = mpd(
    STATIC,
    `<BaseURL>http://cdn.test/root/</BaseURL>
     <Period id="p"><BaseURL>period/</BaseURL>
       <AdaptationSet id="v"><BaseURL>/abs/as/</BaseURL>
         <SegmentTemplate media="$RepresentationID$-$Number$.m4s?tok=a&amp;b=1" initialization="$RepresentationID$-init.mp4" duration="4" />
         <Representation id="r1" bandwidth="1000"><BaseURL>r1/</BaseURL></Representation>
         <Representation id="r2" bandwidth="2000"><BaseURL>https://other.test/x/</BaseURL></Representation>
         <Representation id="r3" bandwidth="3000" />
       </AdaptationSet>
       <AdaptationSet><Representation id="a" mimeType="audio/mp4"><BaseURL>audio.mp4</BaseURL></Representation></AdaptationSet>
     </Period>`,
  );
  const m = parse(text);
  const [r1, r2, r3, a] = m.representations;
  assert.deepEqual(urls(r1), ['http://cdn.test/abs/as/r1/r1-1.m4s?tok=a&b=1', 'http://cdn.test/abs/as/r1/r1-2.m4s?tok=a&b=1']);
  assert.equal(r1?.init?.url, 'http://cdn.test/abs/as/r1/r1-init.mp4');
  assert.equal(r1?.init?.seq, -1);
  assert.equal(r1?.init?.durationSec, 0);
  assert.equal(urls(r2)[0], 'https://other.test/x/r2-1.m4s?tok=a&b=1');
  assert.equal(urls(r3)[0], 'http://cdn.test/abs/as/r3-1.m4s?tok=a&b=1');
  // No segment information: the Representation is its BaseURL, one file.
  assert.deepEqual(urls(a), ['http://cdn.test/root/period/audio.mp4']);
  assert.equal(a?.mimeType, 'audio/mp4');
  assert.equal(r2?.bandwidth, 2000);
  assert.equal(r1?.swarm, `${MPD_URL}#p/v/r1`);
  assert.equal(a?.swarm, `${MPD_URL}#p/1/a`, 'AdaptationSet without id: its index');

  const q = parseMpd(text, `${MPD_URL}?session=9`, AST_MS, { ignoreQuery: true });
  assert.ok(q.ok);
  if (!q.ok) return;
  assert.equal(q.value.representations[0]?.segments[0]?.id, 'http://cdn.test/abs/as/r1/r1-1.m4s');
  assert.equal(q.value.representations[0]?.swarm, `${MPD_URL}#p/v/r1`);
});

test('SegmentTemplate inherited from AdaptationSet and overridden per Representation', () => {
  const text = mpd(
    STATIC,
    `<Period>
       <AdaptationSet id="0">
         <SegmentTemplate timescale="1000" duration="2000" startNumber="10" media="$RepresentationID$/$Number%04d$-$Bandwidth$.m4s" initialization="$RepresentationID$/init-$Bandwidth$.mp4" />
         <Representation id="lo" bandwidth="100" />
         <Representation id="hi" bandwidth="900"><SegmentTemplate startNumber="0" media="hi/t$Time$.m4s" /></Representation>
       </AdaptationSet>
     </Period>`,
  );
  const [lo, hi] = parse(text).representations;
  assert.deepEqual(seqs(lo), [10, 11, 12, 13]);
  assert.equal(urls(lo)[0], 'http://example.test/live/demo/lo/0010-100.m4s');
  assert.equal(lo?.init?.url, 'http://example.test/live/demo/lo/init-100.mp4');
  assert.deepEqual(lo?.segments.map((s) => s.durationSec), [2, 2, 2, 2]);
  assert.deepEqual(seqs(hi), [0, 1, 2, 3]);
  assert.deepEqual(urls(hi), [0, 2000, 4000, 6000].map((t) => `http://example.test/live/demo/hi/t${t}.m4s`));
  assert.equal(hi?.init?.url, 'http://example.test/live/demo/hi/init-900.mp4', 'initialization inherited');
});

test('static duration-based template: count from mediaPresentationDuration, short last segment', () => {
  const text = mpd(
    'type="static" mediaPresentationDuration="PT9S"',
    '<Period><AdaptationSet><SegmentTemplate duration="4" media="s$Number$.m4s"/><Representation id="v"/></AdaptationSet></Period>',
  );
  const r = parse(text).representations[0];
  assert.deepEqual(seqs(r), [1, 2, 3]);
  assert.deepEqual(r?.segments.map((s) => s.durationSec), [4, 4, 1]);
});

test('SegmentTimeline: t, d, r, and r=-1 up to the next S@t', () => {
  const text = mpd(
    STATIC,
    `<Period><AdaptationSet><Representation id="v">
       <SegmentTemplate timescale="10" startNumber="5" media="$Number$_$Time$.m4s">
         <SegmentTimeline><S t="100" d="20" r="1"/><S d="10"/><S t="200" d="20" r="-1"/><S t="260" d="20"/></SegmentTimeline>
       </SegmentTemplate>
     </Representation></AdaptationSet></Period>`,
  );
  const r = parse(text).representations[0];
  assert.deepEqual(
    r?.segments.map((s) => [s.seq, s.url.split('/').pop(), s.durationSec]),
    [
      [5, '5_100.m4s', 2],
      [6, '6_120.m4s', 2],
      [7, '7_140.m4s', 1],
      [8, '8_200.m4s', 2],
      [9, '9_220.m4s', 2],
      [10, '10_240.m4s', 2],
      [11, '11_260.m4s', 2],
    ],
  );
});

test('SegmentTimeline r=-1 as the last S: until the period end (static) or now (dynamic)', () => {
  const tl = (attrs: string): string =>
    mpd(
      attrs,
      `<Period start="PT0S"><AdaptationSet><Representation id="v">
         <SegmentTemplate timescale="1000" media="$Time$.m4s"><SegmentTimeline><S t="0" d="2000" r="-1"/></SegmentTimeline></SegmentTemplate>
       </Representation></AdaptationSet></Period>`,
    );
  assert.deepEqual(seqs(parse(tl('type="static" mediaPresentationDuration="PT7S"')).representations[0]), [1, 2, 3, 4]);
  // Live, 9.5 s after availabilityStartTime: segments ending by then (0-2, ..., 6-8) exist.
  const live = parse(tl(`type="dynamic" availabilityStartTime="${AST}"`), AST_MS + 9_500);
  assert.equal(live.live, true);
  assert.deepEqual(seqs(live.representations[0]), [1, 2, 3, 4]);
  // Hours later, only the time-shift window (6 s = 3 segments) is listed, not thousands.
  const late = parse(tl(`type="dynamic" availabilityStartTime="${AST}" timeShiftBufferDepth="PT6S"`), AST_MS + 3_600_000);
  assert.deepEqual(seqs(late.representations[0]), [1798, 1799, 1800]);
  assert.equal(urls(late.representations[0])[2], 'http://example.test/live/demo/3598000.m4s');
});

test('dynamic duration-based template: numbers from availabilityStartTime + Period@start + now, limited to the window', () => {
  const text = (extra: string): string =>
    mpd(
      `type="dynamic" availabilityStartTime="${AST}" minimumUpdatePeriod="PT2S" ${extra}`,
      `<Period start="PT10S"><AdaptationSet><SegmentTemplate timescale="1000" duration="2000" startNumber="1" media="c-$Number%05d$.m4s"/>
         <Representation id="v"/></AdaptationSet></Period>`,
    );
  const m = parse(text('timeShiftBufferDepth="PT6S"'), AST_MS + 10_000 + 21_000);
  assert.equal(m.live, true);
  assert.equal(m.minimumUpdatePeriodSec, 2);
  // 21 s into the period: segments 1..10 are complete; the 6 s window keeps 8, 9, 10.
  assert.deepEqual(seqs(m.representations[0]), [8, 9, 10]);
  assert.equal(urls(m.representations[0])[2], 'http://example.test/live/demo/c-00010.m4s');
  // No timeShiftBufferDepth: a small default window (10 segments).
  assert.deepEqual(seqs(parse(text(''), AST_MS + 10_000 + 61_000).representations[0]), [21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  // Before the period started (or a client clock behind the server): nothing yet, not an error.
  assert.deepEqual(seqs(parse(text(''), AST_MS).representations[0]), []);
  assert.match(reason(mpd('type="dynamic"', '<Period><AdaptationSet><SegmentTemplate duration="2" media="$Number$"/><Representation id="v"/></AdaptationSet></Period>')), /availabilityStartTime/);
});

test('multi-period: Period start from the previous start + duration; swarms by Period id or index', () => {
  const text = mpd(
    'type="static" mediaPresentationDuration="PT10S"',
    `<Period duration="PT4S"><AdaptationSet id="0"><SegmentTemplate duration="2" media="a$Number$"/><Representation id="v"/></AdaptationSet></Period>
     <Period id="ad"><AdaptationSet id="0"><SegmentTemplate duration="2" media="b$Number$"/><Representation id="v"/></AdaptationSet></Period>`,
  );
  const [p0, p1] = parse(text).representations;
  assert.deepEqual(urls(p0).map((u) => u.split('/').pop()), ['a1', 'a2']);
  assert.deepEqual(urls(p1).map((u) => u.split('/').pop()), ['b1', 'b2', 'b3'], 'second period: 10 - 4 = 6 s');
  assert.equal(p0?.swarm, `${MPD_URL}#0/0/v`);
  assert.equal(p1?.swarm, `${MPD_URL}#ad/0/v`);
  const odd = parse(mpd(STATIC, '<Period id="a/b#c"><AdaptationSet id="x"><Representation id="1 2"/></AdaptationSet></Period>'));
  assert.equal(odd.representations[0]?.swarm, `${MPD_URL}#a%2Fb%23c/x/1%202`, 'ids cannot forge a separator');
});

test('SegmentList: SegmentURL@media, @mediaRange, Initialization@sourceURL and @range', () => {
  const text = mpd(
    STATIC,
    `<Period><AdaptationSet><Representation id="v" bandwidth="5">
       <BaseURL>media/v.mp4</BaseURL>
       <SegmentList timescale="1000" duration="4000" startNumber="3">
         <Initialization range="0-99"/>
         <SegmentURL mediaRange="100-199"/><SegmentURL mediaRange="200-299"/><SegmentURL media="other.mp4"/>
       </SegmentList>
     </Representation>
     <Representation id="w"><SegmentList><Initialization sourceURL="w/init.mp4"/><SegmentURL media="w/1.m4s"/></SegmentList></Representation>
     </AdaptationSet></Period>`,
  );
  const [v, w] = parse(text).representations;
  const base = 'http://example.test/live/demo/media/v.mp4';
  assert.deepEqual(v?.init, { id: `${base}|0-99`, url: base, seq: -1, durationSec: 0, range: { start: 0, end: 99 } });
  assert.deepEqual(
    v?.segments.map((s) => [s.id, s.seq, s.durationSec]),
    [
      [`${base}|100-199`, 3, 4],
      [`${base}|200-299`, 4, 4],
      ['http://example.test/live/demo/media/other.mp4', 5, 4],
    ],
  );
  assert.deepEqual(v?.segments[0]?.range, { start: 100, end: 199 });
  assert.equal(w?.init?.url, 'http://example.test/live/demo/w/init.mp4');
  assert.deepEqual(urls(w), ['http://example.test/live/demo/w/1.m4s']);
});

test('SegmentBase: indexRange and Initialization@range give `indexed` for Range requests', () => {
  const text = mpd(
    STATIC,
    `<Period><AdaptationSet><SegmentBase indexRange="900-1099"><Initialization range="0-899"/></SegmentBase>
       <Representation id="v"><BaseURL>v.mp4</BaseURL></Representation>
       <Representation id="w"><BaseURL>w.mp4</BaseURL><SegmentBase indexRange="50-60"/></Representation>
     </AdaptationSet></Period>`,
  );
  const [v, w] = parse(text).representations;
  const url = 'http://example.test/live/demo/v.mp4';
  assert.deepEqual(v?.indexed, { url, indexRange: { start: 900, end: 1099 } });
  assert.deepEqual(v?.init?.range, { start: 0, end: 899 });
  assert.equal(v?.init?.url, url);
  assert.deepEqual(v?.segments, []);
  assert.deepEqual(w?.indexed?.indexRange, { start: 50, end: 60 }, 'Representation overrides the attribute');
  assert.deepEqual(w?.init?.range, { start: 0, end: 899 }, 'Initialization inherited from the AdaptationSet');
});

test('hostile input: limits, absurd numbers, bad URLs, malformed XML', () => {
  assert.match(reason(' '.repeat(4 * 1024 * 1024 + 1)), /too large/);
  assert.match(reason('not xml'), /malformed/);
  assert.match(reason('<MPD><Period></MPD>'), /malformed/);
  assert.match(reason('<Foo/>'), /no MPD/);
  const reps = Array.from({ length: 65 }, (_, i) => `<Representation id="${i}"/>`).join('');
  assert.match(reason(mpd(STATIC, `<Period><AdaptationSet>${reps}</AdaptationSet></Period>`)), /too many representations/);
  const tpl = (seg: string): string =>
    mpd(STATIC, `<Period><AdaptationSet><Representation id="v"><SegmentTemplate media="$Number$" ${seg}</SegmentTemplate></Representation></AdaptationSet></Period>`);
  assert.match(reason(tpl('><SegmentTimeline><S d="1" r="999999999999"/></SegmentTimeline>')), /too many segments/);
  assert.match(reason(tpl('timescale="1000000" duration="1">')), /too many segments/);
  const manyReps = Array.from({ length: 3 }, (_, i) => `<Representation id="${i}"/>`).join('');
  const allReps = mpd('type="static" mediaPresentationDuration="PT20000S"', `<Period><AdaptationSet><SegmentTemplate duration="1" media="$Number$"/>${manyReps}</AdaptationSet></Period>`);
  assert.match(reason(allReps), /too many segments in MPD/, '3 x 20,000 is over the 50,000 total');
  assert.match(reason(tpl('><SegmentTimeline><S d="0"/></SegmentTimeline>')), /@d/);
  assert.match(reason(tpl('><SegmentTimeline><S/></SegmentTimeline>')), /@d/);
  assert.match(reason(tpl('timescale="0" duration="1">')), /timescale/);
  assert.match(reason(tpl('startNumber="1e30" duration="1">')), /startNumber/);
  assert.match(reason(tpl('startNumber="-1" duration="1">')), /startNumber/);
  assert.match(reason(tpl('startNumber="9007199254740991" duration="1">')), /out of range/);
  assert.match(reason(tpl('duration="NaN">')), /duration/);
  assert.match(reason(mpd('type="static" mediaPresentationDuration="P99999999Y"', '')), /mediaPresentationDuration/);
  assert.match(reason(mpd(STATIC, '<BaseURL>javascript:alert(1)</BaseURL>')), /BaseURL/);
  assert.match(reason(mpd(STATIC, '<Period><AdaptationSet><Representation id="v"><BaseURL>data:,x</BaseURL></Representation></AdaptationSet></Period>')), /URL/);
  assert.match(reason(mpd(STATIC, '<Period><AdaptationSet><Representation/></AdaptationSet></Period>')), /@id/);
  assert.match(reason(mpd(STATIC, '<Period><AdaptationSet><Representation id="v"><SegmentList><SegmentURL mediaRange="9-1"/></SegmentList></Representation></AdaptationSet></Period>')), /mediaRange/);
  assert.match(reason(tpl('media="$Nmber$" duration="1">').replace('media="$Number$" ', '')), /@media/);
  const bad = parseMpd(mpd(STATIC, ''), 'ftp://example.test/a.mpd', 0);
  assert.ok(!bad.ok);
});

test('no entity expansion (billion laughs) and no prototype pollution', () => {
  const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<MPD type="static" mediaPresentationDuration="PT2S"><BaseURL>http://x.test/&lol3;/</BaseURL><Period><AdaptationSet><Representation id="v"/></AdaptationSet></Period></MPD>`;
  const r = parseMpd(lol, MPD_URL, 0);
  // Either refused or left unexpanded; never 1000 x 'lol'.
  if (r.ok) assert.ok(!(r.value.representations[0]?.segments[0]?.url ?? '').includes('lollol'));
  for (const hostile of [
    mpd(STATIC, '<Period><__proto__ polluted="1"/></Period>'),
    mpd(STATIC, '<Period><AdaptationSet __proto__="x" constructor="y"><Representation id="v" polluted="1"/></AdaptationSet></Period>'),
    mpd(STATIC, '<Period><constructor><prototype polluted="1"/></constructor></Period>'),
  ]) {
    parseMpd(hostile, MPD_URL, 0);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  }
  // Predefined entities and character references are decoded (a query string needs &amp;).
  const m = parse(mpd(STATIC, '<Period><AdaptationSet><Representation id="v"><BaseURL>a&#x2F;b&#47;c.mp4?x=1&amp;y=&lt;2&gt;</BaseURL></Representation></AdaptationSet></Period>'));
  assert.equal(urls(m.representations[0])[0], 'http://example.test/live/demo/a/b/c.mp4?x=1&y=%3C2%3E');
});
