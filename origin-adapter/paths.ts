/** Path and media-type rules shared by the file server, the proxy and the stats counters. */

const SAFE_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** A single path component we are willing to open: no separators, no traversal, no dotfiles. */
export function isSafeFileName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.startsWith('.');
}

export interface MediaPath {
  /** /live/… is the embedded live source, /vod/… the embedded VOD asset. */
  readonly kind: 'live' | 'vod';
  readonly stream: string;
  readonly file: string;
}

/** Parses `/live/<stream>/<file>` or `/vod/<stream>/<file>`; undefined for anything else, including encoded separators. */
export function parseMediaPath(pathname: string): MediaPath | undefined {
  const m = /^\/(live|vod)\/([^/]+)\/([^/]+)$/.exec(pathname);
  if (m === null) return undefined;
  const kind = m[1] === 'vod' ? 'vod' : 'live';
  const stream = m[2];
  const file = m[3];
  if (stream === undefined || file === undefined) return undefined;
  if (!isSafeFileName(stream) || !isSafeFileName(file)) return undefined;
  return { kind, stream, file };
}

const SEGMENT_EXT = new Set(['.ts', '.m4s', '.mp4', '.m4a', '.aac', '.cmfv', '.cmfa']);
const PLAYLIST_EXT = new Set(['.m3u8', '.mpd']);

function extOf(pathname: string): string {
  const base = pathname.slice(pathname.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot < 0 ? '' : base.slice(dot).toLowerCase();
}

export type MediaKind = 'segment' | 'playlist' | 'other';

/** Classifies a request path (no query) for counting and caching. */
export function mediaKind(pathname: string): MediaKind {
  const ext = extOf(pathname);
  if (SEGMENT_EXT.has(ext)) return 'segment';
  if (PLAYLIST_EXT.has(ext)) return 'playlist';
  return 'other';
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.ts': 'video/mp2t',
  '.m4s': 'video/mp4',
  '.mp4': 'video/mp4',
  '.cmfv': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.cmfa': 'audio/mp4',
  '.aac': 'audio/aac',
  '.js': 'application/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export function contentTypeOf(pathname: string): string {
  return CONTENT_TYPES[extOf(pathname)] ?? 'application/octet-stream';
}

/**
 * The player page's `src` comes from a query string: accept only an absolute
 * path ("/...", not protocol-relative "//host") or an http(s) URL.
 */
export function isAcceptablePlayerSrc(src: string): boolean {
  if (src.length === 0 || src.length > 2048 || /[\u0000-\u001f\u007f\\]/.test(src)) return false;
  if (src.startsWith('/')) return !src.startsWith('//');
  try {
    const u = new URL(src);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
