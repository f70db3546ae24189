/**
 * A segment copy that is still arriving from a peer, relayed onward as its bytes come in
 * (cut-through): every hop then adds a frame's time instead of a whole segment's.
 *
 * Nothing unverified reaches a player: the last byte is released only once the whole copy
 * matched the origin's published hash (`complete()`), so a downstream peer can finish its
 * own copy only from a verified one. A copy that fails (upstream gone, timeout, mismatch)
 * is `failed`, and its uploads end with a `miss`.
 */
export interface Sendable {
  /** The segment's bytes; only the first `sendable()` of them are final. */
  readonly bytes: Uint8Array;
  /** Bytes that may be sent now. */
  sendable(): number;
  /** True once the copy will never complete; the sender should stop. */
  readonly failed: boolean;
  /** Resolves when more bytes are sendable, the copy completed or it failed. */
  next(): Promise<void>;
}

/** A whole, verified copy. */
export function wholeCopy(bytes: Uint8Array): Sendable {
  return { bytes, sendable: () => bytes.byteLength, failed: false, next: () => Promise.resolve() };
}

export class GrowingCopy implements Sendable {
  private received = 0;
  private verified = false;
  private dead = false;
  private readonly wakers = new Set<() => void>();
  /** Peers told it was arriving: they need no second announcement when it is complete. */
  readonly toldPeers = new Set<string>();

  constructor(
    readonly bytes: Uint8Array,
    /** Hops from the origin of this copy (its sender's plus one). */
    readonly hop: number,
  ) {}

  get failed(): boolean {
    return this.dead;
  }

  sendable(): number {
    if (this.verified) return this.bytes.byteLength;
    return Math.min(this.received, this.bytes.byteLength - 1);
  }

  next(): Promise<void> {
    if (this.dead || this.verified) return Promise.resolve();
    return new Promise((resolve) => this.wakers.add(resolve));
  }

  /** `received` bytes from the start are in `bytes` now. */
  progress(received: number): void {
    if (this.dead || received <= this.received) return;
    this.received = Math.min(received, this.bytes.byteLength);
    this.wake();
  }

  /** The whole copy arrived and matched the origin's hash. */
  complete(): void {
    if (this.dead) return;
    this.received = this.bytes.byteLength;
    this.verified = true;
    this.wake();
  }

  fail(): void {
    if (this.verified) return;
    this.dead = true;
    this.wake();
  }

  private wake(): void {
    const w = [...this.wakers];
    this.wakers.clear();
    for (const f of w) f();
  }
}
