/**
 * Segment identity: a normalized absolute URL plus an optional byte range.
 * Two requests for the same bytes must map to the same id; two different
 * streams must never share one.
 */
export interface IdOptions {
  /** Drop the query string (signed-URL tokens) from ids. Default false: a query may select content. */
  readonly ignoreQuery: boolean;
  /** Drop only these query parameters (e.g. token, expires, sig); the rest still tells streams apart. */
  readonly ignoreParams?: readonly string[];
  /**
   * Multi-CDN: the same path on any host is the same bytes, so the host is left out of
   * ids (swarm ids included). Only for sites whose CDNs all mirror one origin.
   */
  readonly ignoreHost?: boolean;
}

/** The host ids carry when `ignoreHost` is set (.invalid never resolves: RFC 2606). */
export const ANY_HOST = 'any-cdn.relaycast.invalid';

export const DEFAULT_ID_OPTIONS: IdOptions = { ignoreQuery: false };

// protocol/ compiles without DOM or Node types; every runtime we target has WHATWG URL.
interface UrlLike {
  protocol: string;
  hash: string;
  search: string;
  host: string;
  port: string;
  readonly href: string;
  readonly searchParams: { delete(name: string): void; readonly size: number };
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
  else if (opts.ignoreParams !== undefined && opts.ignoreParams.length > 0) {
    for (const p of opts.ignoreParams) u.searchParams.delete(p);
    if (u.searchParams.size === 0) u.search = '';
  }
  if (opts.ignoreHost === true) {
    u.protocol = 'https:';
    u.host = ANY_HOST;
    u.port = '';
  }
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
