/**
 * The broadcast's DASH MPD (ISO/IEC 23009-1), from its timeline: dynamic, one Period per run of
 * the source (a reconnect starts new timestamps and a new init segment, which only a new Period
 * may carry), each starting where the one before ends (timeline.ts), with the segments of the
 * window.
 */
import { escapeHtml } from '../player-page.js';
import { bandwidthOf, type RepInfo, type Segment } from './epoch-mpd.js';
import type { Timeline } from './timeline.js';

export interface DashRenderOptions {
  readonly segmentSec: number;
  readonly windowSegments: number;
  /** suggestedPresentationDelay: where players hold their buffer (3 segments, as the embedded source). */
  readonly presentationDelaySec: number;
}

const seconds = (ms: number): string => `PT${(Math.round(ms) / 1000).toFixed(3)}S`;
const attr = (name: string, v: string | number | undefined): string => (v === undefined ? '' : ` ${name}="${escapeHtml(String(v))}"`);

/** S elements, runs of equal durations folded into @r. */
function timeline(segments: readonly Segment[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < segments.length) {
    const s = segments[i];
    if (s === undefined) break;
    let r = 0;
    while (segments[i + r + 1]?.d === s.d && segments[i + r + 1]?.t === s.t + (r + 1) * s.d) r++;
    out.push(`<S t="${s.t}" d="${s.d}"${r > 0 ? ` r="${r}"` : ''}/>`);
    i += r + 1;
  }
  return out.join('');
}

function representation(rep: RepInfo, ptoTicks: number, segments: readonly Segment[]): string {
  const first = segments[0];
  const channels = rep.channels === undefined ? '' : `<AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="${escapeHtml(rep.channels)}"/>`;
  return (
    `<Representation${attr('id', rep.id)}${attr('mimeType', rep.mimeType)}${attr('codecs', rep.codecs)}${attr('bandwidth', bandwidthOf(rep))}` +
    `${attr('width', rep.width)}${attr('height', rep.height)}${attr('frameRate', rep.frameRate)}${attr('audioSamplingRate', rep.sampleRate)}>${channels}` +
    `<SegmentTemplate${attr('timescale', rep.timescale)}${attr('initialization', rep.init)}${attr('media', rep.mediaTemplate)}${attr('startNumber', first?.number)}${attr('presentationTimeOffset', ptoTicks)}>` +
    `<SegmentTimeline>${timeline(segments)}</SegmentTimeline></SegmentTemplate></Representation>`
  );
}

/** undefined while nothing is listed. */
export function renderMpd(tl: Timeline, o: DashRenderOptions, nowMs: number): string | undefined {
  const ast = tl.availabilityStartMs;
  const periods = tl.periods();
  if (ast === undefined || periods.length === 0) return undefined;
  const body = periods
    .map((p) => {
      const sets = (['video', 'audio'] as const).flatMap((kind, id) => {
        const reps = p.reps.filter((r) => r.rep.contentType === kind && r.segments.length > 0);
        return reps.length === 0 ? [] : [`<AdaptationSet id="${id}" contentType="${kind}" segmentAlignment="true">${reps.map((r) => representation(r.rep, r.ptoTicks, r.segments)).join('')}</AdaptationSet>`];
      });
      return `<Period id="e${p.epoch}" start="${seconds(p.startMs)}">${sets.join('')}</Period>`;
    })
    .join('\n');
  return (
    '<?xml version="1.0" encoding="utf-8"?>\n' +
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic"` +
    ` minimumUpdatePeriod="PT${o.segmentSec}S" suggestedPresentationDelay="PT${o.presentationDelaySec}S"` +
    ` availabilityStartTime="${new Date(ast).toISOString()}" publishTime="${new Date(nowMs).toISOString()}"` +
    ` timeShiftBufferDepth="PT${o.windowSegments * o.segmentSec}S" minBufferTime="PT${2 * o.segmentSec}S">\n${body}\n</MPD>\n`
  );
}
