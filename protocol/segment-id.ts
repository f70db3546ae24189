/**
 * Segment identity: a normalized absolute URL plus an optional byte range.
 * Two requests for the same bytes must map to the same id; two different
 * streams must never share one.
 */
export interface IdOptions {
  /** Drop the query string (signed-URL tokens) from ids. Default false: a query may select content. */
  readonly ignoreQuery: boolean;
}

export const DEFAULT_ID_OPTIONS: IdOptions = { ignoreQuery: false };

// protocol/ compiles without DOM or Node types; every runtime we target has WHATWG URL.
interface UrlLike {
  protocol: string;
  hash: string;
  search: string;
  readonly href: string;
}
const UrlCtor = (globalThis as unknown as { URL: new (url: string, base?: string) => UrlLike }).URL;

/** Returns the normalized URL, or undefined when `url` is not an absolute http(s) URL. */
export function normalizeUrl(url: string, base: string | undefined, opts: IdOptions = DEFAULT_ID_OPTIONS): string | undefined {
  let u: UrlLike;
  try {
    u = base === undefined ? new UrlCtor(url) : new UrlCtor(url, base);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  u.hash = '';
  if (opts.ignoreQuery) u.search = '';
  return u.href;
}

export interface ByteRange {
  readonly start: number;
  /** Inclusive end, as in HTTP. */
  readonly end: number;
}

export function segmentId(normalizedUrl: string, range?: ByteRange): string {
  return range === undefined ? normalizedUrl : `${normalizedUrl}|${range.start}-${range.end}`;
}
