/**
 * GET/HEAD /live/<stream>/<file> for a broadcast: its manifests, written from the timeline on
 * each request (master.m3u8, media_<rep>.m3u8, stream.mpd), and the segments of its runs
 * (`init-e<N>-…`, `chunk-e<N>-…` from the run's directory). Before the first segment the
 * manifests answer 404: there is no stream yet (the broadcast page waits for it to go live).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { playlistControlHeaders, type P2PMode } from '../control.js';
import { sendText } from '../http-util.js';
import { hashEntry, hashFile, type HashRegistry } from '../integrity.js';
import { contentTypeOf, mediaKind, parseMediaPath } from '../paths.js';
import { serveFile } from '../serve-file.js';
import type { OriginCounters } from '../stats.js';
import type { Broadcast } from './broadcast.js';
import { renderMpd, type DashRenderOptions } from './dash-render.js';
import { epochDirName } from './epoch-args.js';
import { MEDIA_PLAYLIST, renderMaster, renderMediaPlaylist } from './hls-render.js';

export interface BroadcastRoutesConfig extends DashRenderOptions {
  readonly streamName: string;
  readonly broadcast: Pick<Broadcast, 'dir' | 'timeline'>;
  readonly counters: OriginCounters;
  readonly hashes: HashRegistry;
  readonly p2pMode: () => P2PMode;
  readonly nowMs?: () => number;
}

const CORS = { 'Access-Control-Allow-Origin': '*' } as const;
/** Newest segments per representation whose hashes ride on each manifest. */
const HASHES_PER_REPRESENTATION = 8;
/** A file of a run: its epoch is in the name. */
const RUN_FILE = /^(?:init|chunk)-e(\d{1,9})-/;

export function createBroadcastRoutes(cfg: BroadcastRoutesConfig) {
  const now = cfg.nowMs ?? Date.now;
  const urlDir = `/live/${cfg.streamName}`;
  const { dir, timeline } = cfg.broadcast;

  /** The file behind a segment name of the broadcast, or undefined. */
  const fileOf = (name: string): string | undefined => {
    const m = RUN_FILE.exec(name);
    return m?.[1] === undefined ? undefined : join(dir, epochDirName(Number(m[1])), name);
  };

  function render(file: string): string | undefined {
    if (file === 'master.m3u8') return timeline.hasSegments() ? renderMaster(timeline.reps()) : undefined;
    if (file === 'stream.mpd') return renderMpd(timeline, cfg, now());
    const rep = MEDIA_PLAYLIST.exec(file)?.[1];
    return rep === undefined ? undefined : renderMediaPlaylist(timeline, rep, cfg.segmentSec);
  }

  async function newestHashes(): Promise<string> {
    const parts: string[] = [];
    for (const { epoch, name } of timeline.newestFiles(HASHES_PER_REPRESENTATION)) {
      const h = await hashFile(cfg.hashes, `${urlDir}/${name}`, join(dir, epochDirName(epoch), name));
      if (h !== undefined) parts.push(hashEntry(name, h));
    }
    return parts.join(',');
  }

  async function manifest(req: IncomingMessage, res: ServerResponse, file: string): Promise<void> {
    const text = render(file);
    if (text === undefined) return sendText(res, 404, 'not live yet\n', { ...CORS, 'Cache-Control': 'no-cache' });
    // A listed segment has its hash before the manifest that lists it goes out.
    const hashes = await newestHashes();
    res.writeHead(200, {
      ...CORS,
      ...playlistControlHeaders(cfg.p2pMode(), hashes),
      'Content-Type': contentTypeOf(file),
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  function fileFor(pathname: string): string | undefined {
    const p = parseMediaPath(pathname);
    return p?.kind === 'live' && p.stream === cfg.streamName && mediaKind(p.file) === 'segment' ? fileOf(p.file) : undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (!pathname.startsWith('/live/') && !pathname.startsWith('/vod/')) return false;
    const p = parseMediaPath(pathname);
    const kind = p === undefined ? 'other' : mediaKind(p.file);
    if (p === undefined || p.kind !== 'live' || p.stream !== cfg.streamName || kind === 'other') {
      sendText(res, 404, 'not found\n', CORS);
      return true;
    }
    const onBytes = cfg.counters.request(kind);
    if (kind === 'playlist') {
      await manifest(req, res, p.file);
      return true;
    }
    const file = fileOf(p.file);
    if (file === undefined) {
      sendText(res, 404, 'not found\n', CORS);
      return true;
    }
    await serveFile(req, res, file, { contentType: contentTypeOf(p.file), cacheControl: 'max-age=60', headers: CORS, ...(onBytes ? { onBytes } : {}) });
    return true;
  }

  return { handle, fileFor };
}
