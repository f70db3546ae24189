/**
 * Streams one file that may vanish at any moment (ffmpeg's sliding window
 * deletes segments): open first, fstat the open handle for the length, then
 * stream from the handle. A file deleted after open stays readable on POSIX;
 * any read error mid-stream destroys the response and never throws.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sendText } from './http-util.js';

export interface ServeFileOptions {
  readonly contentType: string;
  readonly cacheControl: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Body of the 404 answer when the file does not exist. */
  readonly notFoundBody?: string;
  /** Called with each body chunk's size as it is handed to the client socket. */
  readonly onBytes?: (n: number) => void;
}

type Range = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * Single `bytes=a-b` / `bytes=a-` / `bytes=-n` ranges only; anything else is ignored (full body).
 * RFC 9110 §14.1.1: the range unit is case-insensitive, and a last-pos below first-pos makes the
 * header invalid, which is ignored (200), not unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): Range {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (m === null) return undefined;
  const a = m[1] ?? '';
  const b = m[2] ?? '';
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: b === '' ? size - 1 : Math.min(Number(b), size - 1) };
}

export async function serveFile(req: IncomingMessage, res: ServerResponse, path: string, o: ServeFileOptions): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = errorCode(e);
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') sendText(res, 404, o.notFoundBody ?? 'not found\n', o.headers ? { ...o.headers } : {});
    else throw e;
    return;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      sendText(res, 404, o.notFoundBody ?? 'not found\n');
      return;
    }
    const lastModified = st.mtime.toUTCString();
    // RFC 9110 §13.1.5: a Range with an If-Range that does not match is answered with the whole representation.
    // We send no ETag, so only our exact Last-Modified date matches.
    const ifRange = req.headers['if-range'];
    const range = ifRange === undefined || String(ifRange).trim() === lastModified ? parseRange(req.headers.range, st.size) : undefined;
    const base = {
      'Content-Type': o.contentType,
      'Cache-Control': o.cacheControl,
      'Accept-Ranges': 'bytes',
      'Last-Modified': lastModified,
      ...o.headers,
    };
    if (range === 'unsatisfiable') {
      sendText(res, 416, 'range not satisfiable\n', { ...base, 'Content-Type': 'text/plain', 'Content-Range': `bytes */${st.size}` });
      return;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? st.size - 1;
    const length = st.size === 0 ? 0 : end - start + 1;
    const headers: Record<string, string | number> = { ...base, 'Content-Length': length };
    if (range !== undefined) headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
    res.writeHead(range === undefined ? 200 : 206, headers);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    const src = fh.createReadStream({ start, end, autoClose: false });
    let sent = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sent += chunk.length;
        o.onBytes?.(chunk.length);
        cb(null, chunk);
      },
      // A file truncated under us ends early; fail so the client sees an abort, not a hang on Content-Length.
      flush(cb) {
        cb(sent === length ? null : new Error(`short read: ${sent}/${length}`));
      },
    });
    // pipeline destroys every stream on error or client abort; we only swallow the rejection.
    await pipeline(src, count, res).catch(() => {
      res.destroy();
    });
  } finally {
    await fh.close().catch(() => undefined);
  }
}

export function errorCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}
