/**
 * Reads the MPD one ffmpeg run of a broadcast writes (its "epoch"): the wall clock it started
 * at, and per Representation its attributes and the segments its SegmentTimeline lists. The
 * broadcast's own manifests (timeline.ts, hls-render.ts, dash-render.ts) are built from these,
 * across the runs a streamer's reconnects cause.
 */
import { XMLParser } from 'fast-xml-parser';
import { expandTemplate } from '../../sw/manifest/dash-template.js';
import { parseDateTimeMs } from '../../sw/manifest/dash-time.js';

export interface Segment {
  /** ffmpeg's segment number ($Number$), from startNumber. */
  readonly number: number;
  /** Start and duration in the representation's timescale. */
  readonly t: number;
  readonly d: number;
  /** File name in the epoch's directory. */
  readonly name: string;
}

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

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['Period', 'AdaptationSet', 'Representation', 'S'].includes(name) });

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const nodes = (v: unknown): Node[] => (Array.isArray(v) ? v.filter(isNode) : []);
const node = (v: unknown): Node | undefined => (isNode(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length <= 256 ? v : undefined);
function uint(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** Segments listed per representation at most (ffmpeg lists its window). */
const MAX_SEGMENTS = 1000;

function segmentsOf(tpl: Node, repId: string): Segment[] {
  const media = str(tpl['media']);
  const timeline = node(tpl['SegmentTimeline']);
  if (media === undefined || timeline === undefined) return [];
  const out: Segment[] = [];
  let number = uint(tpl['startNumber']) ?? 1;
  let t = 0;
  for (const s of nodes(timeline['S'])) {
    t = uint(s['t']) ?? t;
    const d = uint(s['d']);
    const r = uint(s['r']) ?? 0;
    if (d === undefined || d === 0) break;
    for (let k = 0; k <= r && out.length < MAX_SEGMENTS; k++) {
      const name = expandTemplate(media, { RepresentationID: repId, Number: number, Time: t });
      if (name !== undefined) out.push({ number, t, d, name });
      number++;
      t += d;
    }
  }
  return out;
}

function repOf(set: Node, rep: Node): EpochRep | undefined {
  const id = str(rep['id']);
  const tpl = node(rep['SegmentTemplate']) ?? node(set['SegmentTemplate']);
  const kind = str(set['contentType']) ?? str(rep['mimeType'])?.split('/')[0];
  const timescale = uint(tpl?.['timescale']) ?? 1;
  if (id === undefined || tpl === undefined || (kind !== 'video' && kind !== 'audio') || timescale === 0) return undefined;
  const initTpl = str(tpl['initialization']);
  const init = initTpl === undefined ? undefined : expandTemplate(initTpl, { RepresentationID: id });
  const mediaTemplate = str(tpl['media']);
  if (init === undefined || mediaTemplate === undefined) return undefined;
  const channels = node(rep['AudioChannelConfiguration']) ?? node(set['AudioChannelConfiguration']);
  return {
    id,
    contentType: kind,
    mimeType: str(rep['mimeType']) ?? str(set['mimeType']) ?? `${kind}/mp4`,
    codecs: str(rep['codecs']),
    bandwidth: uint(rep['bandwidth']),
    width: uint(rep['width']),
    height: uint(rep['height']),
    frameRate: str(rep['frameRate']),
    sampleRate: uint(rep['audioSamplingRate']),
    channels: str(channels?.['value']),
    timescale,
    init,
    mediaTemplate,
    segments: segmentsOf(tpl, id),
  };
}

/** undefined when `mpd` does not parse as an MPD with a Period. */
export function parseEpochMpd(mpd: string): EpochManifest | undefined {
  let doc: unknown;
  try {
    doc = parser.parse(mpd);
  } catch {
    return undefined;
  }
  const root = node(node(doc)?.['MPD']);
  const period = nodes(root?.['Period'])[0];
  if (root === undefined || period === undefined) return undefined;
  const ast = str(root['availabilityStartTime']);
  const reps: EpochRep[] = [];
  for (const set of nodes(period['AdaptationSet'])) {
    for (const r of nodes(set['Representation'])) {
      const rep = repOf(set, r);
      if (rep !== undefined) reps.push(rep);
    }
  }
  return { astMs: ast === undefined ? undefined : parseDateTimeMs(ast), reps };
}
