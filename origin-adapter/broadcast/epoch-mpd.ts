/**
 * Reads the MPD one ffmpeg run of a broadcast writes (its "epoch"): the wall clock it started
 * at, and per Representation its attributes and the segments its SegmentTimeline lists. The
 * broadcast's own manifests (timeline.ts, hls-render.ts, dash-render.ts) are built from these,
 * across the runs a streamer's reconnects cause.
 */
import { expandTemplate } from '../../sw/manifest/dash-template.js';
import { parseDateTimeMs } from '../../sw/manifest/dash-time.js';
import { mpdRoot, timelineSegments, uintAttr, xmlNode, xmlNodes, type TimelineSegment, type XmlNode } from '../mpd-timeline.js';

/** A segment of a run: its number, start and duration (timescale units), file name in the run's directory. */
export type Segment = TimelineSegment;

export interface RepInfo {
  readonly id: string;
  readonly contentType: 'video' | 'audio';
  readonly mimeType: string;
  readonly codecs: string | undefined;
  readonly bandwidth: number | undefined;
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly frameRate: string | undefined;
  readonly sampleRate: number | undefined;
  /** AudioChannelConfiguration@value. */
  readonly channels: string | undefined;
  readonly timescale: number;
  /** The init segment's file name. */
  readonly init: string;
  /** SegmentTemplate@media, for the broadcast's MPD. */
  readonly mediaTemplate: string;
}

export interface EpochRep extends RepInfo {
  readonly segments: readonly Segment[];
}

export interface EpochManifest {
  /** availabilityStartTime (Unix ms): the wall clock of media time 0. Absent from the MPD ffmpeg writes at exit. */
  readonly astMs: number | undefined;
  readonly reps: readonly EpochRep[];
}

/** Bitrate when ffmpeg knew none for a copied stream (the encoder's metadata lacked it): a guess players use only to choose a rendition. */
const GUESS_BPS = { video: 3_000_000, audio: 128_000 } as const;
export const bandwidthOf = (r: RepInfo): number => r.bandwidth ?? GUESS_BPS[r.contentType];

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length <= 256 ? v : undefined);

function repOf(set: XmlNode, rep: XmlNode): EpochRep | undefined {
  const id = str(rep['id']);
  const tpl = xmlNode(rep['SegmentTemplate']) ?? xmlNode(set['SegmentTemplate']);
  const kind = str(set['contentType']) ?? str(rep['mimeType'])?.split('/')[0];
  const timescale = uintAttr(tpl?.['timescale']) ?? 1;
  if (id === undefined || tpl === undefined || (kind !== 'video' && kind !== 'audio') || timescale === 0) return undefined;
  const initTpl = str(tpl['initialization']);
  const init = initTpl === undefined ? undefined : expandTemplate(initTpl, { RepresentationID: id });
  const mediaTemplate = str(tpl['media']);
  if (init === undefined || mediaTemplate === undefined) return undefined;
  const channels = xmlNode(rep['AudioChannelConfiguration']) ?? xmlNode(set['AudioChannelConfiguration']);
  return {
    id,
    contentType: kind,
    mimeType: str(rep['mimeType']) ?? str(set['mimeType']) ?? `${kind}/mp4`,
    codecs: str(rep['codecs']),
    bandwidth: uintAttr(rep['bandwidth']),
    width: uintAttr(rep['width']),
    height: uintAttr(rep['height']),
    frameRate: str(rep['frameRate']),
    sampleRate: uintAttr(rep['audioSamplingRate']),
    channels: str(channels?.['value']),
    timescale,
    init,
    mediaTemplate,
    segments: timelineSegments(tpl, id),
  };
}

/** undefined when `mpd` does not parse as an MPD with a Period. */
export function parseEpochMpd(mpd: string): EpochManifest | undefined {
  const root = mpdRoot(mpd);
  const period = xmlNodes(root?.['Period'])[0];
  if (root === undefined || period === undefined) return undefined;
  const ast = str(root['availabilityStartTime']);
  const reps: EpochRep[] = [];
  for (const set of xmlNodes(period['AdaptationSet'])) {
    for (const r of xmlNodes(set['Representation'])) {
      const rep = repOf(set, r);
      if (rep !== undefined) reps.push(rep);
    }
  }
  return { astMs: ast === undefined ? undefined : parseDateTimeMs(ast), reps };
}
