import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ByteRange } from '../../protocol/segment-id.js';
import { parseIsoDurationSec } from './dash-time.js';

/**
 * Reading untrusted MPD XML for dash-mpd.ts: one safely configured parser and
 * accessors that only see own properties and fail with a reason on bad values.
 */

/** Anything longer (a duration, a period start) is an absurd value, not a stream. */
export const MAX_SECONDS = 10 * 365 * 86_400;

/** Thrown only by these helpers and dash-mpd.ts, turned into err() by parseMpd. */
export class MpdError extends Error {}
export const fail = (reason: string): never => {
  throw new MpdError(reason);
};

export type XmlNode = object;

/** An own property of a parsed node, never one inherited from Object.prototype. */
function own(o: unknown, key: string): unknown {
  return typeof o === 'object' && o !== null ? Object.getOwnPropertyDescriptor(o, key)?.value : undefined;
}

// processEntities: false — no DOCTYPE entity expansion (billion laughs); the five
// predefined entities and character references are decoded below, one pass, no recursion.
// fast-xml-parser throws on `__proto__` tag/attribute names rather than assigning them.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  textNodeName: '#text',
  alwaysCreateTextNode: true,
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  removeNSPrefix: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/** Parsed XML, or undefined when the text is not well-formed. */
export function parseXml(text: string): unknown {
  return XMLValidator.validate(text) === true ? parser.parse(text) : undefined;
}

const ENTITIES: { readonly [k: string]: string } = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decodeXml(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|amp|lt|gt|quot|apos);/g, (m, e: string) => {
    if (!e.startsWith('#')) return ENTITIES[e] ?? m;
    const cp = e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

export function kids(n: unknown, name: string): XmlNode[] {
  const v = own(n, name);
  return Array.isArray(v) ? v.filter((x): x is XmlNode => typeof x === 'object' && x !== null) : [];
}
export const first = (n: unknown, name: string): XmlNode | undefined => kids(n, name)[0];

export function attr(n: XmlNode | undefined, name: string): string | undefined {
  const v = own(own(n, '@'), name);
  return typeof v === 'string' ? decodeXml(v.trim()) : undefined;
}

export function textContent(n: XmlNode | undefined): string | undefined {
  const v = own(n, '#text');
  return typeof v === 'string' && v.trim() !== '' ? decodeXml(v.trim()) : undefined;
}

/** A non-negative integer attribute (min may be -1 for S@r). */
export function int(n: XmlNode | undefined, name: string, min = 0): number | undefined {
  const s = attr(n, name);
  if (s === undefined) return undefined;
  const v = /^-?\d{1,16}$/.test(s) ? Number(s) : Number.NaN;
  return Number.isSafeInteger(v) && v >= min ? v : fail(`bad @${name}`);
}

export function seconds(n: XmlNode | undefined, name: string): number | undefined {
  const s = attr(n, name);
  if (s === undefined) return undefined;
  const v = parseIsoDurationSec(s);
  return v !== undefined && v <= MAX_SECONDS ? v : fail(`bad @${name}`);
}

export function byteRange(s: string | undefined, what: string): ByteRange | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d{1,16})-(\d{1,16})$/.exec(s);
  const start = Number(m?.[1]);
  const end = Number(m?.[2]);
  return Number.isSafeInteger(start) && Number.isSafeInteger(end) && start <= end ? { start, end } : fail(`bad ${what}`);
}

/** Hierarchical attributes: the most specific level that sets one wins (5.3.9.1). */
export type Chain = readonly XmlNode[];
export function chainAttr(c: Chain, name: string): XmlNode | undefined {
  for (let i = c.length - 1; i >= 0; i--) if (attr(c[i], name) !== undefined) return c[i];
  return undefined;
}
export function chainInt(c: Chain, name: string, dflt: number, min = 0): number {
  return int(chainAttr(c, name), name, min) ?? dflt;
}
export function chainChild(c: Chain, name: string): XmlNode | undefined {
  for (let i = c.length - 1; i >= 0; i--) {
    const k = first(c[i], name);
    if (k !== undefined) return k;
  }
  return undefined;
}
