/**
 * Segment hashes the adapter publishes so pages can check peer bytes before
 * they reach a player: a SHA-256 of the whole segment and its piece root
 * (protocol/pieces.ts), so pages can also check each piece as it arrives.
 * For the embedded live source the newest segments are hashed before each
 * manifest is served (no window where a listed segment has no hash); in
 * --upstream mode the adapter fetches each segment a manifest lists itself
 * (upstream-hasher.ts). Byte ranges of the embedded source's files (VOD) are
 * hashed on demand, each once.
 */
import { putBounded } from '../protocol/bounded.js';
import { formatPublished } from '../protocol/control.js';
import { PIECE_BYTES } from '../protocol/pieces.js';
import { createHash, type Hash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';

/**
 * What is published for one segment (or byte range): both base64url without padding, 43
 * characters; its size and its hash list (the leaves the piece root covers) when the adapter
 * hashed the bytes itself.
 */
export interface SegmentHash {
  readonly sha256: string;
  readonly pieceRoot: string;
  readonly bytes?: number;
  readonly leaves?: Buffer;
}

/** What the registry keeps and the hash route answers of a segment's hashes: all but the hash list, which is kept apart. */
export function published(h: SegmentHash): SegmentHash {
  const { leaves: _leaves, ...rest } = h;
  return rest;
}

/** Hash lists kept, newest first: those of live windows, which stripe heads ask for (a few KB each). */
const MAX_LISTS = 2048;

/** Published hashes keyed by URL path (query ignored: the bytes do not depend on tokens). */
export class HashRegistry {
  private readonly hashes = new Map<string, SegmentHash>();
  private readonly lists = new Map<string, Buffer>();

  constructor(private readonly maxEntries = 20_000) {}

  get(path: string): SegmentHash | undefined {
    return this.hashes.get(path);
  }

  /** The hash list of `path`, while it is among the newest MAX_LISTS kept. */
  list(path: string): Buffer | undefined {
    return this.lists.get(path);
  }

  set(path: string, h: SegmentHash): void {
    putBounded(this.hashes, path, published(h), this.maxEntries);
    if (h.leaves !== undefined) putBounded(this.lists, path, h.leaves, MAX_LISTS);
  }

  get size(): number {
    return this.hashes.size;
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

/**
 * Incremental SHA-256 and piece root of a body that arrives in chunks of any size:
 * leaf i = SHA-256 of bytes [i * pieceBytes, (i + 1) * pieceBytes), root = SHA-256 of the
 * leaves concatenated. Holds one running hash per piece and 32 bytes per finished piece.
 */
export function streamHasher(pieceBytes: number = PIECE_BYTES): { update(chunk: Uint8Array): void; digest(): SegmentHash; readonly bytes: number } {
  const whole = createHash('sha256');
  const leaves: Buffer[] = [];
  let piece: Hash = createHash('sha256');
  let inPiece = 0;
  let total = 0;
  return {
    update(chunk) {
      whole.update(chunk);
      total += chunk.length;
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(pieceBytes - inPiece, chunk.length - off);
        piece.update(chunk.subarray(off, off + n));
        inPiece += n;
        off += n;
        if (inPiece === pieceBytes) {
          leaves.push(piece.digest());
          piece = createHash('sha256');
          inPiece = 0;
        }
      }
    },
    digest() {
      // The last, shorter piece; an empty segment is one empty piece (pieceCount is at least 1).
      if (inPiece > 0 || leaves.length === 0) leaves.push(piece.digest());
      const list = Buffer.concat(leaves);
      return { sha256: whole.digest('base64url'), pieceRoot: createHash('sha256').update(list).digest('base64url'), bytes: total, leaves: list };
    },
    get bytes() {
      return total;
    },
  };
}

/** The piece root of a whole segment (protocol/pieces.ts). */
export function pieceRoot(bytes: Uint8Array, pieceBytes: number = PIECE_BYTES): string {
  return segmentHash(bytes, pieceBytes).pieceRoot;
}

/** SHA-256 and piece root of a whole segment. */
export function segmentHash(bytes: Uint8Array, pieceBytes: number = PIECE_BYTES): SegmentHash {
  const h = streamHasher(pieceBytes);
  h.update(bytes);
  return h.digest();
}

/**
 * The hash of one complete file of the embedded source (or a byte range of it),
 * computed once and kept under its URL path (`path` or `path|start-end`).
 * Undefined when the file does not exist (deleted under the sliding window).
 */
export async function hashFile(reg: HashRegistry, key: string, file: string, range?: { start: number; end: number }, withList = false): Promise<SegmentHash | undefined> {
  const known = reg.get(key);
  if (known !== undefined && (!withList || reg.list(key) !== undefined)) return known;
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
  const h = segmentHash(bytes);
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

/** Registry key of a segment or of a byte range of it. */
export function hashKey(path: string, range?: { start: number; end: number }): string {
  return range === undefined ? path : `${path}|${range.start}-${range.end}`;
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
  withList = false,
): Promise<SegmentHash | undefined> {
  const key = hashKey(path, range);
  const file = fileFor(path);
  return file === undefined ? Promise.resolve(reg.get(key)) : hashFile(reg, key, file, range, withList);
}

/** One `X-Relaycast-Hashes` entry: `<uri>=<sha256>:<pieceRoot>` (protocol/control.ts). */
export function hashEntry(uri: string, h: SegmentHash): string {
  return `${uri}=${formatPublished(h)}`;
}
