import { normalizeUrl, segmentId, type ByteRange, type IdOptions } from '../../protocol/segment-id.js';
import { err, ok, type Result } from '../../protocol/result.js';
import { expandTemplate } from './dash-template.js';
import { parseDateTimeMs } from './dash-time.js';
import {
  attr, byteRange, chainAttr, chainChild, chainInt, fail, first, int, kids, MAX_SECONDS, MpdError, parseXml,
  seconds, textContent, type Chain, type XmlNode,
} from './dash-xml.js';
import type { MediaSegment } from './hls-playlist.js';

/**
 * A small DASH MPD reader (ISO/IEC 23009-1), the DASH twin of hls-playlist.ts:
 * which URLs (and byte ranges) are segments of which rendition, in order. Service
 * workers have no DOMParser, so the XML goes through fast-xml-parser. Not read:
 * xlink remote elements, multiple BaseURLs (the first wins), $SubNumber$, sidx
 * boxes (SegmentBase yields `indexed` and no segments), Location, patches.
 */

export interface DashRepresentation {
  /** Normalized MPD URL + '#' + Period id|index + '/' + AdaptationSet id|index + '/' + Representation@id (each URI-encoded). */
  readonly swarm: string;
  readonly bandwidth?: number;
  readonly mimeType?: string;
  /** seq -1, durationSec 0, as EXT-X-MAP in the HLS reader. */
  readonly init?: MediaSegment;
  /** In order; seq is the segment's $Number$. */
  readonly segments: readonly MediaSegment[];
  /** SegmentBase: one media file whose sidx (at indexRange) maps time to byte ranges. */
  readonly indexed?: { readonly url: string; readonly indexRange?: ByteRange };
}

export interface Mpd {
  readonly live: boolean;
  readonly minimumUpdatePeriodSec?: number;
  readonly representations: readonly DashRepresentation[];
}

export const MPD_LIMITS = {
  maxChars: 4 * 1024 * 1024,
  maxSegmentsPerRepresentation: 20_000,
  maxRepresentations: 64,
  /**
   * All representations together. Building a segment (template, URL resolution) costs
   * ~7 µs in Node, so this keeps the worst MPD under ~0.4 s; a 2 h VOD of 2 s segments
   * in 10 renditions is 36,000.
   */
  maxSegmentsTotal: 50_000,
  /** Live window for a duration-based template when the MPD gives no timeShiftBufferDepth. */
  defaultLiveWindowSegments: 10,
  maxSeconds: MAX_SECONDS,
} as const;

interface Ctx {
  readonly live: boolean;
  readonly nowMs: number;
  readonly availabilityStartMs: number | undefined;
  readonly periodStartSec: number;
  readonly periodDurationSec: number | undefined;
  readonly timeShiftBufferDepthSec: number | undefined;
}

/** Seconds since the period began, by the injected clock (live) or its whole length (static). */
function periodElapsedSec(ctx: Ctx): number {
  if (!ctx.live) return ctx.periodDurationSec ?? fail('static MPD without a duration');
  if (ctx.availabilityStartMs === undefined) return fail('dynamic MPD without availabilityStartTime');
  const elapsed = (ctx.nowMs - ctx.availabilityStartMs) / 1000 - ctx.periodStartSec;
  return Math.max(0, Math.min(elapsed, ctx.periodDurationSec ?? elapsed));
}

function windowSegments(ctx: Ctx, segSec: number): number {
  const d = ctx.timeShiftBufferDepthSec;
  return d !== undefined ? Math.max(1, Math.ceil(d / segSec)) : MPD_LIMITS.defaultLiveWindowSegments;
}

/** One addressable segment before its URL is known: $Number$, $Time$ (timescale units), duration. */
interface Slot {
  readonly num: number;
  readonly time: number;
  readonly durationSec: number;
}

function pushSlot(out: Slot[], num: number, time: number, durationSec: number): void {
  if (!Number.isSafeInteger(num) || !Number.isSafeInteger(time)) fail('segment number or time out of range');
  out.push({ num, time, durationSec });
  if (out.length > MPD_LIMITS.maxSegmentsPerRepresentation) fail('too many segments');
}

/** SegmentTimeline: S@t (default: where the previous ended), @d, @r (-1: until the next S@t, the period end or now). */
function timelineSlots(tl: XmlNode, timescale: number, startNumber: number, pto: number, ctx: Ctx): Slot[] {
  const ss = kids(tl, 'S');
  const out: Slot[] = [];
  let t = 0;
  let num = startNumber;
  for (let i = 0; i < ss.length; i++) {
    const s = ss[i];
    t = int(s, 't') ?? t;
    const d = int(s, 'd') ?? fail('S without @d');
    if (d === 0) fail('S@d is 0');
    const r = int(s, 'r', -1) ?? 0;
    let count = r + 1;
    let skip = 0;
    if (r === -1) {
      const nextT = int(ss[i + 1], 't');
      const end = nextT ?? pto + Math.floor(periodElapsedSec(ctx) * timescale);
      // A live segment exists only once it has ended; a static period's last one may be short.
      count = Math.max(0, ctx.live && nextT === undefined ? Math.floor((end - t) / d) : Math.ceil((end - t) / d));
      if (ctx.live && nextT === undefined) skip = Math.max(0, count - windowSegments(ctx, d / timescale));
    }
    for (let k = skip; k < count; k++) pushSlot(out, num + k, t + k * d, d / timescale);
    num += count;
    t += count * d;
  }
  return out;
}

/** @duration without a timeline: numbers follow from the clock (live) or the period length (static). */
function durationSlots(duration: number, timescale: number, startNumber: number, pto: number, ctx: Ctx): Slot[] {
  const segSec = duration / timescale;
  const elapsed = periodElapsedSec(ctx);
  const count = ctx.live ? Math.floor(elapsed / segSec) : Math.ceil(elapsed / segSec - 1e-9);
  const from = ctx.live ? Math.max(0, count - windowSegments(ctx, segSec)) : 0;
  if (count - from > MPD_LIMITS.maxSegmentsPerRepresentation) fail('too many segments');
  const out: Slot[] = [];
  for (let k = from; k < count; k++) {
    pushSlot(out, startNumber + k, pto + k * duration, ctx.live ? segSec : Math.min(segSec, elapsed - k * segSec));
  }
  return out;
}

interface RepInput {
  readonly levels: Chain; // Period, AdaptationSet, Representation
  readonly base: string;
  readonly repId: string;
  readonly bandwidth: number | undefined;
  readonly ctx: Ctx;
  readonly idOpts: IdOptions | undefined;
  readonly budget: { segmentsLeft: number };
}

/** Checked before any URL is built, so a hostile MPD costs little CPU. */
function spend<T>(r: RepInput, items: readonly T[]): readonly T[] {
  r.budget.segmentsLeft -= items.length;
  return r.budget.segmentsLeft >= 0 ? items : fail('too many segments in MPD');
}

function makeSegment(uri: string, r: RepInput, seq: number, durationSec: number, range?: ByteRange): MediaSegment {
  const url = normalizeUrl(uri, r.base, r.idOpts) ?? fail('bad segment URL');
  return { id: segmentId(url, range), url, seq, durationSec, ...(range ? { range } : {}) };
}

function initFrom(node: XmlNode | undefined, r: RepInput): MediaSegment | undefined {
  if (node === undefined) return undefined;
  return makeSegment(attr(node, 'sourceURL') ?? r.base, r, -1, 0, byteRange(attr(node, 'range'), 'Initialization@range'));
}

function slotsFor(c: Chain, r: RepInput): Slot[] {
  const timescale = chainInt(c, 'timescale', 1);
  if (timescale === 0) fail('timescale 0');
  const startNumber = chainInt(c, 'startNumber', 1);
  const pto = chainInt(c, 'presentationTimeOffset', 0);
  const tl = chainChild(c, 'SegmentTimeline');
  if (tl !== undefined) return timelineSlots(tl, timescale, startNumber, pto, r.ctx);
  const duration = chainInt(c, 'duration', 0);
  return duration > 0 ? durationSlots(duration, timescale, startNumber, pto, r.ctx) : [];
}

function readRepresentation(r: RepInput): Pick<DashRepresentation, 'init' | 'segments' | 'indexed'> {
  const kinds = ['SegmentTemplate', 'SegmentList', 'SegmentBase'] as const;
  const kind = [...r.levels].reverse().map((l) => kinds.find((k) => first(l, k) !== undefined)).find((k) => k !== undefined);
  const c: Chain = kind === undefined ? [] : r.levels.map((l) => first(l, kind)).filter((n): n is XmlNode => n !== undefined);
  const values = { RepresentationID: r.repId, ...(r.bandwidth !== undefined ? { Bandwidth: r.bandwidth } : {}) };

  if (kind === 'SegmentTemplate') {
    const initTpl = attr(chainAttr(c, 'initialization'), 'initialization');
    const initUri = initTpl !== undefined ? (expandTemplate(initTpl, values) ?? fail('bad @initialization')) : undefined;
    const init = initUri !== undefined ? makeSegment(initUri, r, -1, 0) : initFrom(chainChild(c, 'Initialization'), r);
    const media = attr(chainAttr(c, 'media'), 'media') ?? fail('SegmentTemplate without @media');
    const segments = spend(r, slotsFor(c, r)).map((s) =>
      makeSegment(expandTemplate(media, { ...values, Number: s.num, Time: s.time }) ?? fail('bad @media'), r, s.num, s.durationSec),
    );
    return { segments, ...(init ? { init } : {}) };
  }
  if (kind === 'SegmentList') {
    const init = initFrom(chainChild(c, 'Initialization'), r);
    const urls = kids([...c].reverse().find((n) => kids(n, 'SegmentURL').length > 0), 'SegmentURL');
    if (urls.length > MPD_LIMITS.maxSegmentsPerRepresentation) fail('too many segments');
    // Durations only: a SegmentList names its segments, the clock does not add any.
    const slots = chainChild(c, 'SegmentTimeline') !== undefined ? slotsFor(c, r) : [];
    const segSec = chainInt(c, 'duration', 0) / Math.max(1, chainInt(c, 'timescale', 1));
    const startNumber = chainInt(c, 'startNumber', 1);
    const segments = spend(r, urls).map((u, i) =>
      makeSegment(attr(u, 'media') ?? r.base, r, startNumber + i, slots[i]?.durationSec ?? segSec, byteRange(attr(u, 'mediaRange'), 'SegmentURL@mediaRange')),
    );
    return { segments, ...(init ? { init } : {}) };
  }
  const url = normalizeUrl(r.base, undefined, r.idOpts) ?? fail('bad BaseURL');
  if (kind === 'SegmentBase') {
    const init = initFrom(chainChild(c, 'Initialization'), r);
    const indexRange = byteRange(attr(chainAttr(c, 'indexRange'), 'indexRange'), '@indexRange');
    return { segments: [], indexed: { url, ...(indexRange ? { indexRange } : {}) }, ...(init ? { init } : {}) };
  }
  // No segment information: the Representation is one file, the BaseURL itself.
  return { segments: [makeSegment(url, r, 0, r.ctx.periodDurationSec ?? 0)] };
}

function resolveBase(n: XmlNode | undefined, base: string): string {
  const b = textContent(first(n, 'BaseURL'));
  return b === undefined ? base : (normalizeUrl(b, base, { ignoreQuery: false }) ?? fail('bad BaseURL'));
}

function readMpd(text: string, mpdUrl: string, nowMs: number, idOpts: IdOptions | undefined): Mpd {
  const doc = parseXml(text) ?? fail('malformed XML');
  const mpd = first(doc, 'MPD') ?? fail('no MPD element');
  const swarmBase = normalizeUrl(mpdUrl, undefined, idOpts) ?? fail('bad MPD URL');
  const live = attr(mpd, 'type') === 'dynamic';
  const astAttr = attr(mpd, 'availabilityStartTime');
  const availabilityStartMs = astAttr !== undefined ? (parseDateTimeMs(astAttr) ?? fail('bad @availabilityStartTime')) : undefined;
  const mpdBase = resolveBase(mpd, normalizeUrl(mpdUrl, undefined, { ignoreQuery: false }) ?? fail('bad MPD URL'));
  const periods = kids(mpd, 'Period');
  const total = seconds(mpd, 'mediaPresentationDuration');

  // Period starts chain: @start, else where the previous one ended (5.3.2.1).
  const starts: number[] = [];
  for (const [i, p] of periods.entries()) {
    const prevEnd = i === 0 ? 0 : (seconds(periods[i - 1], 'duration') ?? Number.NaN) + (starts[i - 1] ?? Number.NaN);
    const start = seconds(p, 'start') ?? prevEnd;
    starts.push(Number.isFinite(start) ? start : fail('cannot place Period'));
  }

  const representations: DashRepresentation[] = [];
  const budget = { segmentsLeft: MPD_LIMITS.maxSegmentsTotal };
  for (const [pi, period] of periods.entries()) {
    const periodStartSec = starts[pi] ?? 0;
    const nextStart = starts[pi + 1];
    const periodDurationSec =
      seconds(period, 'duration') ?? (nextStart !== undefined ? nextStart - periodStartSec : total !== undefined ? total - periodStartSec : undefined);
    const ctx: Ctx = {
      live,
      nowMs,
      availabilityStartMs,
      periodStartSec,
      periodDurationSec: periodDurationSec !== undefined && periodDurationSec >= 0 ? periodDurationSec : undefined,
      timeShiftBufferDepthSec: seconds(mpd, 'timeShiftBufferDepth'),
    };
    const periodBase = resolveBase(period, mpdBase);
    for (const [ai, as] of kids(period, 'AdaptationSet').entries()) {
      const asBase = resolveBase(as, periodBase);
      for (const rep of kids(as, 'Representation')) {
        if (representations.length >= MPD_LIMITS.maxRepresentations) fail('too many representations');
        const repId = attr(rep, 'id') ?? fail('Representation without @id');
        const bandwidth = int(rep, 'bandwidth');
        const mimeType = attr(rep, 'mimeType') ?? attr(as, 'mimeType');
        const swarm = [attr(period, 'id') ?? String(pi), attr(as, 'id') ?? String(ai), repId].map(encodeURIComponent).join('/');
        const input: RepInput = { levels: [period, as, rep], base: resolveBase(rep, asBase), repId, bandwidth, ctx, idOpts, budget };
        representations.push({
          swarm: `${swarmBase}#${swarm}`,
          ...(bandwidth !== undefined ? { bandwidth } : {}),
          ...(mimeType !== undefined ? { mimeType } : {}),
          ...readRepresentation(input),
        });
      }
    }
  }
  const minimumUpdatePeriodSec = seconds(mpd, 'minimumUpdatePeriod');
  return { live, ...(minimumUpdatePeriodSec !== undefined ? { minimumUpdatePeriodSec } : {}), representations };
}

/** Never throws: untrusted MPD text (an HTTP response body) gives a value or a reason. */
export function parseMpd(text: string, mpdUrl: string, nowMs: number, idOpts?: IdOptions): Result<Mpd> {
  if (text.length > MPD_LIMITS.maxChars) return err('MPD too large');
  if (!Number.isFinite(nowMs)) return err('bad clock');
  try {
    return ok(readMpd(text, mpdUrl, nowMs, idOpts));
  } catch (e) {
    return err(e instanceof MpdError ? e.message : 'malformed MPD');
  }
}
