/**
 * The segments a DASH SegmentTemplate's SegmentTimeline lists, as ffmpeg's dash muxer writes
 * them: number, start and duration (timescale units) and file name. Shared by the embedded
 * source's program dates and a broadcast's runs.
 */
import { XMLParser } from 'fast-xml-parser';
import { expandTemplate } from '../sw/manifest/dash-template.js';

export type XmlNode = Record<string, unknown>;

export interface TimelineSegment {
  /** $Number$, from startNumber. */
  readonly number: number;
  readonly t: number;
  readonly d: number;
  readonly name: string;
}

export const isXmlNode = (v: unknown): v is XmlNode => typeof v === 'object' && v !== null && !Array.isArray(v);
export const xmlNodes = (v: unknown): XmlNode[] => (Array.isArray(v) ? v.filter(isXmlNode) : []);
export const xmlNode = (v: unknown): XmlNode | undefined => (isXmlNode(v) ? v : undefined);

/** A decimal attribute (ffmpeg writes them as strings), or undefined. */
export function uintAttr(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['Period', 'AdaptationSet', 'Representation', 'S'].includes(name) });

/** The `MPD` element of an MPD ffmpeg wrote (attributes as strings), or undefined when it does not parse. */
export function mpdRoot(text: string): XmlNode | undefined {
  try {
    const doc: unknown = parser.parse(text);
    return xmlNode(xmlNode(doc)?.['MPD']);
  } catch {
    return undefined;
  }
}

/** Segments read per representation at most (ffmpeg lists its window and a few more). */
export const MAX_TIMELINE_SEGMENTS = 1000;

export function timelineSegments(tpl: XmlNode, repId: string): TimelineSegment[] {
  const media = tpl['media'];
  const timeline = xmlNode(tpl['SegmentTimeline']);
  if (typeof media !== 'string' || timeline === undefined) return [];
  const out: TimelineSegment[] = [];
  let number = uintAttr(tpl['startNumber']) ?? 1;
  let t = 0;
  for (const s of xmlNodes(timeline['S'])) {
    t = uintAttr(s['t']) ?? t;
    const d = uintAttr(s['d']);
    const r = uintAttr(s['r']) ?? 0;
    if (d === undefined || d === 0) break;
    for (let k = 0; k <= r && out.length < MAX_TIMELINE_SEGMENTS; k++) {
      const name = expandTemplate(media, { RepresentationID: repId, Number: number, Time: t });
      if (name !== undefined) out.push({ number, t, d, name });
      number++;
      t += d;
    }
  }
  return out;
}
