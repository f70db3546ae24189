/** GET/HEAD /live/<stream>/<file>: the embedded source's playlists and segments. */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ADAPTER_LIMITS } from './config.js';
import { sendText } from './http-util.js';
import { contentTypeOf, mediaKind, parseLivePath } from './paths.js';
import { errorCode, serveFile } from './serve-file.js';
import type { OriginCounters } from './stats.js';
import { playlistControlHeaders, type P2PMode } from './control.js';
import { hashListedSegments, type HashRegistry } from './integrity.js';

export interface LiveRoutesConfig {
  readonly streamName: string;
  readonly dir: string;
  readonly counters: OriginCounters;
  readonly hashes: HashRegistry;
  readonly p2pMode: () => P2PMode;
}

const CORS = { 'Access-Control-Allow-Origin': '*' } as const;
const PLAYLIST_RETRIES = 5;
const PLAYLIST_RETRY_MS = 20;

/**
 * ffmpeg 4.1 rewrites index.m3u8 in place (its temp_file flag warns "Cannot use
 * rename on non file protocol" and does nothing here), so a read can catch an
 * empty or half-written playlist. Only a complete one is served.
 */
export async function readCompletePlaylist(path: string): Promise<string | undefined> {
  for (let i = 0; i < PLAYLIST_RETRIES; i++) {
    const text = await readFile(path, 'utf8');
    if (text.length <= ADAPTER_LIMITS.playlistBytes && text.startsWith('#EXTM3U') && text.endsWith('\n')) return text;
    await new Promise((r) => setTimeout(r, PLAYLIST_RETRY_MS));
  }
  return undefined;
}

export function createLiveRoutes(cfg: LiveRoutesConfig) {
  return async function handleLive(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (!pathname.startsWith('/live/')) return false;
    const p = parseLivePath(pathname);
    if (p === undefined || p.stream !== cfg.streamName) {
      sendText(res, 404, 'not found\n', CORS);
      return true;
    }
    const kind = mediaKind(p.file);
    const onBytes = cfg.counters.request(kind);
    const path = join(cfg.dir, p.file);
    if (kind === 'playlist') {
      let text: string | undefined;
      try {
        text = await readCompletePlaylist(path);
      } catch (e) {
        if (errorCode(e) !== 'ENOENT') throw e;
        sendText(res, 404, 'not found\n', CORS);
        return true;
      }
      if (text === undefined) {
        sendText(res, 503, 'playlist is being rewritten; retry\n', { ...CORS, 'Retry-After': '1' });
        return true;
      }
      // Hash every listed segment before the playlist goes out: no listed segment is ever without a hash.
      const hashes = text.includes('#EXTINF') ? await hashListedSegments(text, cfg.dir, `/live/${p.stream}`, cfg.hashes) : undefined;
      res.writeHead(200, {
        ...CORS,
        ...playlistControlHeaders(cfg.p2pMode(), hashes),
        'Content-Type': contentTypeOf(p.file),
        'Content-Length': Buffer.byteLength(text),
        'Cache-Control': 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : text);
      return true;
    }
    await serveFile(req, res, path, {
      contentType: contentTypeOf(p.file),
      cacheControl: kind === 'segment' ? 'max-age=60' : 'no-cache',
      headers: CORS,
      ...(onBytes ? { onBytes } : {}),
    });
    return true;
  };
}
