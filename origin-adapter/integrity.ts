/**
 * Segment hashes the adapter publishes so pages can check peer bytes before
 * they reach a player. For the embedded live source the newest segments
 * are hashed before each manifest is served (no window where a listed segment
 * has no hash); in --upstream mode a segment is hashed as its first
 * full 200 response streams through the proxy, and pages ask
 * /relaycast/hash for it when they need it. Byte ranges of the embedded
 * source's files (VOD) are hashed on demand, each once.
 */
import { putBounded } from '../protocol/bounded.js';
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';

/** Published hashes: SHA-256, base64url, keyed by URL path (query ignored: the bytes do not depend on tokens). */
export class HashRegistry {
  private readonly hashes = new Map<string, string>();

  constructor(private readonly maxEntries = 20_000) {}

  get(path: string): string | undefined {
    return this.hashes.get(path);
  }

  set(path: string, sha256: string): void {
    putBounded(this.hashes, path, sha256, this.maxEntries);
  }

  get size(): number {
    return this.hashes.size;
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

/**
 * The hash of one complete file of the embedded source (or a byte range of it),
 * computed once and kept under its URL path (`path` or `path|start-end`).
 * Undefined when the file does not exist (deleted under the sliding window).
 */
export async function hashFile(reg: HashRegistry, key: string, file: string, range?: { start: number; end: number }): Promise<string | undefined> {
  const known = reg.get(key);
  if (known !== undefined) return known;
  let bytes: Uint8Array;
  try {
    if (range === undefined) {
      bytes = await readFile(file);
    } else {
      const fh = await open(file, 'r');
      try {
        // Never allocate past the file's end, whatever range was asked for.
        const { size } = await fh.stat();
        if (range.end >= size) return undefined;
        const len = range.end - range.start + 1;
        const buf = Buffer.alloc(len);
        const { bytesRead } = await fh.read(buf, 0, len, range.start);
        if (bytesRead !== len) return undefined;
        bytes = buf;
      } finally {
        await fh.close();
      }
    }
  } catch {
    return undefined;
  }
  const h = sha256(bytes);
  reg.set(key, h);
  return h;
}

const MAX_HASHED_RANGE_BYTES = 64 * 1024 * 1024;

/** `start-end` (inclusive, as in HTTP), or undefined when absent; 'bad' when malformed. */
export function parseHashRange(v: string | null): { start: number; end: number } | undefined | 'bad' {
  if (v === null) return undefined;
  const m = /^(\d{1,15})-(\d{1,15})$/.exec(v);
  const start = Number(m?.[1]);
  const end = Number(m?.[2]);
  if (!m || end < start || end - start + 1 > MAX_HASHED_RANGE_BYTES) return 'bad';
  return { start, end };
}

/**
 * The published hash of `path`, or of a byte range of it (key `path|start-end`): what is known,
 * else an embedded source's file (`fileFor`) hashed now.
 */
export function lookupHash(
  reg: HashRegistry,
  fileFor: (path: string) => string | undefined,
  path: string,
  range?: { start: number; end: number },
): Promise<string | undefined> {
  const key = range === undefined ? path : `${path}|${range.start}-${range.end}`;
  const file = fileFor(path);
  return file === undefined ? Promise.resolve(reg.get(key)) : hashFile(reg, key, file, range);
}

/** Incremental hashing of a streamed body (upstream mode). */
export function streamHasher(): { update(chunk: Uint8Array): void; digest(): string } {
  const h = createHash('sha256');
  return { update: (c) => void h.update(c), digest: () => h.digest('base64url') };
}
