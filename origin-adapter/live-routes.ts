/** GET/HEAD /live/<stream>/<file> and /vod/<stream>/<file>: the embedded source's manifests and segments. */
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ADAPTER_LIMITS } from './config.js';
import { sendText } from './http-util.js';
import { contentTypeOf, mediaKind, parseMediaPath, type MediaPath } from './paths.js';
import { errorCode, serveFile } from './serve-file.js';
import type { OriginCounters } from './stats.js';
import { playlistControlHeaders, type P2PMode } from './control.js';
import { hashEntry, hashFile, type HashRegistry } from './integrity.js';
import { MANIFESTS, SEGMENT_PATTERN } from './ffmpeg-args.js';
import { segmentStartTimes, withProgramDateTime } from './program-date-time.js';

export interface LiveRoutesConfig {
  readonly streamName: string;
  /** The live source's dir, if it runs. */
  readonly liveDir: string | undefined;
  /** The VOD asset's dir, if there is one. */
  readonly vodDir: string | undefined;
  readonly counters: OriginCounters;
  readonly hashes: HashRegistry;
  readonly p2pMode: () => P2PMode;
  /** Published in the live MPD as suggestedPresentationDelay (ffmpeg 4.1 writes one segment, which no player can hold). */
  readonly presentationDelaySec: number;
}

const CORS = { 'Access-Control-Allow-Origin': '*' } as const;
const MANIFEST_RETRIES = 5;
const MANIFEST_RETRY_MS = 20;
/** Newest segments per representation whose hashes ride on each live manifest. */
const HASHES_PER_REPRESENTATION = 8;

function complete(text: string, file: string): boolean {
  if (text.length > ADAPTER_LIMITS.playlistBytes) return false;
  return file.endsWith('.mpd') ? text.trimEnd().endsWith('</MPD>') : text.startsWith('#EXTM3U') && text.endsWith('\n');
}

/**
 * ffmpeg writes manifests through a temp file and rename, but a read can still
 * race a half-written file on some filesystems: only a complete one is served.
 */
export async function readCompleteManifest(path: string, file: string): Promise<string | undefined> {
  for (let i = 0; i < MANIFEST_RETRIES; i++) {
    const text = await readFile(path, 'utf8');
    if (complete(text, file)) return text;
    await new Promise((r) => setTimeout(r, MANIFEST_RETRY_MS));
  }
  return undefined;
}

/**
 * The newest complete segments of every representation in a live dir, hashed
 * (each once) and named as `<file>=<sha256>:<pieceRoot>` for X-Relaycast-Hashes. DASH and
 * HLS manifests list the same files, so one list serves both. ffmpeg renames a
 * segment into place when it is complete, so a listed name is a complete file.
 */
export async function hashNewestSegments(dir: string, urlDir: string, reg: HashRegistry): Promise<string> {
  const byRep = new Map<string, string[]>();
  for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
    const m = SEGMENT_PATTERN.exec(name);
    if (!m) continue;
    const rep = `${m[1] ?? ''}-${m[2] ?? ''}`;
    const list = byRep.get(rep) ?? [];
    list.push(name);
    byRep.set(rep, list);
  }
  const parts: string[] = [];
  for (const names of byRep.values()) {
    for (const name of names.slice(-HASHES_PER_REPRESENTATION)) {
      const h = await hashFile(reg, `${urlDir}/${name}`, join(dir, name));
      if (h !== undefined) parts.push(hashEntry(name, h));
    }
  }
  return parts.join(',');
}

/** Wall-clock starts of the live segments, from the MPD ffmpeg writes beside the HLS playlists. */
async function liveStartTimes(dir: string): Promise<Map<string, number>> {
  try {
    const mpd = await readCompleteManifest(join(dir, MANIFESTS.dash), MANIFESTS.dash);
    return mpd === undefined ? new Map() : segmentStartTimes(mpd);
  } catch {
    return new Map();
  }
}

export function createLiveRoutes(cfg: LiveRoutesConfig) {
  const dirOf = (p: MediaPath): string | undefined => (p.stream !== cfg.streamName ? undefined : p.kind === 'live' ? cfg.liveDir : cfg.vodDir);

  async function manifest(req: IncomingMessage, res: ServerResponse, p: MediaPath, dir: string): Promise<void> {
    let text: string | undefined;
    try {
      text = await readCompleteManifest(join(dir, p.file), p.file);
    } catch (e) {
      if (errorCode(e) !== 'ENOENT') throw e;
      sendText(res, 404, 'not found\n', CORS);
      return;
    }
    if (text === undefined) {
      sendText(res, 503, 'manifest is being rewritten; retry\n', { ...CORS, 'Retry-After': '1' });
      return;
    }
    if (p.kind === 'live' && p.file.endsWith('.m3u8')) text = withProgramDateTime(text, await liveStartTimes(dir));
    if (p.file.endsWith('.mpd')) text = text.replace(/suggestedPresentationDelay="[^"]*"/, `suggestedPresentationDelay="PT${cfg.presentationDelaySec}S"`);
    // Live: hash the newest segments before the manifest goes out, so a listed segment has its hash.
    // VOD: byte ranges of one file; pages look each one up at /relaycast/hash?path=…&range=….
    const hashes = p.kind === 'live' ? await hashNewestSegments(dir, `/${p.kind}/${p.stream}`, cfg.hashes) : undefined;
    res.writeHead(200, {
      ...CORS,
      ...playlistControlHeaders(cfg.p2pMode(), hashes),
      'Content-Type': contentTypeOf(p.file),
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': p.kind === 'live' ? 'no-cache' : 'max-age=60',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  /** The file behind a media path of the embedded sources (manifests excluded), for on-demand hashing. */
  function fileFor(pathname: string): string | undefined {
    const p = parseMediaPath(pathname);
    const dir = p && dirOf(p);
    return p && dir !== undefined && mediaKind(p.file) === 'segment' ? join(dir, p.file) : undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (!pathname.startsWith('/live/') && !pathname.startsWith('/vod/')) return false;
    const p = parseMediaPath(pathname);
    const dir = p && dirOf(p);
    if (p === undefined || dir === undefined) {
      sendText(res, 404, 'not found\n', CORS);
      return true;
    }
    const kind = mediaKind(p.file);
    // Only manifests and segments: ffmpeg writes each file as `<name>.tmp` first, and a
    // half-written segment must never reach a player or a hash.
    if (kind === 'other') {
      sendText(res, 404, 'not found\n', CORS);
      return true;
    }
    const onBytes = cfg.counters.request(kind);
    if (kind === 'playlist') {
      await manifest(req, res, p, dir);
      return true;
    }
    await serveFile(req, res, join(dir, p.file), {
      contentType: contentTypeOf(p.file),
      cacheControl: 'max-age=60',
      headers: CORS,
      ...(onBytes ? { onBytes } : {}),
    });
    return true;
  }

  return { handle, fileFor };
}

export type MediaRoutes = ReturnType<typeof createLiveRoutes>;
