import { Bitfield, LEAF_BYTES, pieceCount, pieceSpan } from '../../protocol/pieces.js';

/** SHA-256 of some bytes, raw (32 bytes). */
export type Digest = (bytes: Uint8Array) => Promise<Uint8Array>;

/** What became of a piece handed to a copy. */
export type PieceVerdict = 'ok' | 'bad' | 'held' | 'dup';

/**
 * A segment being assembled from pieces, from several peers and the origin. A piece from a
 * peer counts only once it matched its leaf in the segment's hash list, and the list only once
 * it matched the root the origin published (checked by the caller before `setList`): nothing
 * unverified is ever served or played. Pieces that arrive before the list is known wait in
 * `held` and are checked when it comes. Origin pieces need no check.
 */
export class PieceCopy {
  readonly bytes: Uint8Array;
  /** Verified pieces: served to peers, and the segment is complete when all are here. */
  readonly have: Bitfield;
  readonly pieces: number;
  private list: Uint8Array | undefined;
  private readonly held = new Map<number, { bytes: Uint8Array; from: string }>();
  /** Pieces being checked now (a digest is asynchronous). */
  private readonly checking = new Set<number>();
  private readonly wakers = new Set<() => void>();
  private closed = false;

  constructor(
    readonly id: string,
    readonly seq: number,
    readonly total: number,
    readonly pieceBytes: number,
    private readonly digest: Digest,
  ) {
    this.bytes = new Uint8Array(total);
    this.pieces = pieceCount(total, pieceBytes);
    this.have = new Bitfield(this.pieces);
  }

  get complete(): boolean {
    return this.have.complete;
  }

  get hashList(): Uint8Array | undefined {
    return this.list;
  }

  /** Pieces not yet verified here (held or being checked ones included). */
  missing(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.pieces; i++) if (!this.have.has(i)) out.push(i);
    return out;
  }

  /** Piece `i` has arrived and waits for its check (held for the list, or being hashed): not to be asked for again. */
  arrived(i: number): boolean {
    return this.have.has(i) || this.held.has(i) || this.checking.has(i);
  }

  /** Piece `i`'s bytes, if verified. */
  piece(i: number): Uint8Array | undefined {
    if (!this.have.has(i)) return undefined;
    const { start, end } = pieceSpan(i, this.total, this.pieceBytes);
    return this.bytes.subarray(start, end);
  }

  /** The peer-sent pieces waiting for the list, by sender (to blame one when the list comes). */
  get heldCount(): number {
    return this.held.size;
  }

  /**
   * The segment's hash list, verified against the published root. Returns the senders of held
   * pieces that did not match it, once those are checked.
   */
  async setList(list: Uint8Array): Promise<string[]> {
    if (this.list !== undefined || list.byteLength !== this.pieces * LEAF_BYTES) return [];
    this.list = list;
    const held = [...this.held];
    this.held.clear();
    // All checks start at once (each marks its piece as being checked), so none looks missing meanwhile.
    const verdicts = await Promise.all(held.map(([i, h]) => this.addPeerPiece(i, h.bytes, h.from)));
    return held.filter((_, k) => verdicts[k] === 'bad').map(([, h]) => h.from);
  }

  /** A piece from peer `from`: 'ok' verified and kept, 'bad' did not match its leaf, 'held' until the list comes, 'dup' not needed. */
  async addPeerPiece(i: number, bytes: Uint8Array, from: string): Promise<PieceVerdict> {
    if (this.closed || this.have.has(i) || this.checking.has(i) || i < 0 || i >= this.pieces) return 'dup';
    if (!this.fits(i, bytes)) return 'bad';
    const list = this.list;
    if (list === undefined) {
      if (this.held.has(i)) return 'dup';
      this.held.set(i, { bytes, from });
      return 'held';
    }
    this.checking.add(i);
    let d: Uint8Array;
    try {
      d = await this.digest(bytes);
    } finally {
      this.checking.delete(i);
    }
    if (!equalAt(d, list, i * LEAF_BYTES)) return 'bad';
    return this.write(i, bytes) ? 'ok' : 'dup';
  }

  /** Bytes of the origin for pieces `first..last` (one range): kept without a check. Returns how many pieces were new. */
  addOriginRange(first: number, last: number, bytes: Uint8Array): number {
    const start = pieceSpan(first, this.total, this.pieceBytes).start;
    const end = pieceSpan(last, this.total, this.pieceBytes).end;
    if (bytes.byteLength !== end - start) return 0;
    let n = 0;
    for (let i = first; i <= last; i++) {
      const s = pieceSpan(i, this.total, this.pieceBytes);
      if (this.write(i, bytes.subarray(s.start - start, s.end - start))) n++;
    }
    return n;
  }

  /** Resolves at the next verified piece, completion or close. */
  next(): Promise<void> {
    if (this.closed || this.complete) return Promise.resolve();
    return new Promise((resolve) => this.wakers.add(resolve));
  }

  /** Given up (evicted, failed the whole-segment check): wakes every waiter. */
  close(): void {
    this.closed = true;
    this.held.clear();
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private fits(i: number, bytes: Uint8Array): boolean {
    const { start, end } = pieceSpan(i, this.total, this.pieceBytes);
    return bytes.byteLength === end - start;
  }

  private write(i: number, bytes: Uint8Array): boolean {
    if (this.closed || this.have.has(i)) return false;
    this.bytes.set(bytes, pieceSpan(i, this.total, this.pieceBytes).start);
    this.have.set(i);
    this.held.delete(i);
    this.wake();
    return true;
  }

  private wake(): void {
    const w = [...this.wakers];
    this.wakers.clear();
    for (const f of w) f();
  }
}

function equalAt(d: Uint8Array, list: Uint8Array, at: number): boolean {
  if (d.byteLength !== LEAF_BYTES) return false;
  for (let k = 0; k < LEAF_BYTES; k++) if (d[k] !== list[at + k]) return false;
  return true;
}

/** The hash list of a whole segment: SHA-256 of each piece, concatenated. */
export async function hashList(bytes: Uint8Array, pieceBytes: number, digest: Digest): Promise<Uint8Array> {
  const n = pieceCount(bytes.byteLength, pieceBytes);
  const out = new Uint8Array(n * LEAF_BYTES);
  for (let i = 0; i < n; i++) {
    const { start, end } = pieceSpan(i, bytes.byteLength, pieceBytes);
    out.set(await digest(bytes.subarray(start, end)), i * LEAF_BYTES);
  }
  return out;
}

/** SHA-256 with WebCrypto (page, worker, Node 20). */
export const subtleDigest: Digest = async (bytes) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
