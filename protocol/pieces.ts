/**
 * Pieces: a segment is cut into fixed-size pieces so that a page can take different pieces of
 * one segment from different holders at once (BitTorrent's swarming) and check each one as it
 * arrives.
 *
 *   piece i   = bytes [i * PIECE_BYTES, min((i + 1) * PIECE_BYTES, total)) of the segment
 *   leaf i    = SHA-256(piece i), 32 raw bytes
 *   hash list = leaf 0 || leaf 1 || ... || leaf n-1
 *   pieceRoot = SHA-256(hash list), base64url without padding (43 characters)
 *
 * The origin adapter publishes each segment's pieceRoot next to its SHA-256. A page gets the
 * hash list from any peer that sends it pieces, checks it against the published root once, and
 * then checks every piece against its leaf before it stores, serves or plays it.
 *
 * One piece travels in one binary frame (framing.ts), within its payload limit. 32 KiB: a parent
 * passes a piece on only once it has it whole and checked, so each hop down a stripe tree adds
 * a piece's time on the uplink; smaller pieces pipeline better over several hops, larger ones
 * cost fewer frames, hashes and picker rounds (measured in the simulator, 300 viewers with
 * uplinks near the bitrate: offload 0.62 at 64 KiB, 0.70-0.71 at 32 KiB, 0.69 at 16 KiB).
 */
export const PIECE_BYTES = 32 * 1024;

/** SHA-256 digest size: one leaf of the hash list. */
export const LEAF_BYTES = 32;

/** Most pieces a segment can have, 32 MiB at PIECE_BYTES (a hash list of this many fits one control message: limits.ts). */
export const MAX_PIECES = 1024;

/** Pieces of a segment of `totalBytes` at `pieceBytes` per piece (at least one). */
export function pieceCount(totalBytes: number, pieceBytes: number = PIECE_BYTES): number {
  return Math.max(1, Math.ceil(totalBytes / pieceBytes));
}

/** Byte span [start, end) of piece `index`. */
export function pieceSpan(index: number, totalBytes: number, pieceBytes: number = PIECE_BYTES): { start: number; end: number } {
  const start = index * pieceBytes;
  return { start, end: Math.min(totalBytes, start + pieceBytes) };
}

/**
 * Which pieces of one segment a page holds. Bit i is bit (7 - i % 8) of byte i / 8, as in
 * BitTorrent; bits past the last piece are zero.
 */
export class Bitfield {
  private readonly bits: Uint8Array;
  private ones = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_PIECES) throw new RangeError('bitfield size');
    this.bits = new Uint8Array((size + 7) >> 3);
  }

  static full(size: number): Bitfield {
    const b = new Bitfield(size);
    for (let i = 0; i < size; i++) b.set(i);
    return b;
  }

  has(i: number): boolean {
    return i >= 0 && i < this.size && (this.bits[i >> 3]! & (0x80 >> (i & 7))) !== 0;
  }

  /** Sets bit `i`; true when it was not set before. */
  set(i: number): boolean {
    if (i < 0 || i >= this.size || this.has(i)) return false;
    this.bits[i >> 3] = this.bits[i >> 3]! | (0x80 >> (i & 7));
    this.ones++;
    return true;
  }

  get count(): number {
    return this.ones;
  }

  get complete(): boolean {
    return this.ones === this.size;
  }

  /** base64url without padding, for `have` messages. */
  encode(): string {
    return toBase64Url(this.bits);
  }

  /** Parses an announced bitfield of exactly `size` bits; undefined when malformed (wrong length, bits past the end). */
  static decode(text: string, size: number): Bitfield | undefined {
    if (!Number.isInteger(size) || size < 1 || size > MAX_PIECES) return undefined;
    const raw = fromBase64Url(text);
    if (raw === undefined || raw.length !== (size + 7) >> 3) return undefined;
    const tail = size & 7;
    if (tail !== 0 && (raw[raw.length - 1]! & (0xff >> tail)) !== 0) return undefined;
    const b = new Bitfield(size);
    for (let i = 0; i < size; i++) if ((raw[i >> 3]! & (0x80 >> (i & 7))) !== 0) b.set(i);
    return b;
  }
}

/** Longest base64url text a bitfield can have (MAX_PIECES bits). */
export const MAX_BITFIELD_CHARS = Math.ceil(((MAX_PIECES / 8) * 4) / 3);

/** Longest base64url text of a hash list (MAX_PIECES leaves). */
export const MAX_HASH_LIST_CHARS = Math.ceil(((MAX_PIECES * LEAF_BYTES) * 4) / 3);

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) t[ALPHABET.charCodeAt(i)] = i;
  return t;
})();

/** base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/** Strict base64url without padding: undefined for any other character, a bad length or non-zero spare bits. */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let nbits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? INDEX[c]! : -1;
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out[o++] = (acc >> nbits) & 0xff;
    }
  }
  if ((acc & ((1 << nbits) - 1)) !== 0) return undefined;
  return out;
}
