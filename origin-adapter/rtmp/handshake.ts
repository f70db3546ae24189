/**
 * The RTMP handshake, server side, in its plain form (RTMP 1.0 spec, 5.2): C0 (version 3) and
 * C1 (1536 bytes) in, S0 S1 S2 out (S2 echoes C1), then C2 (1536 bytes, not checked). Publishers
 * (OBS through librtmp, ffmpeg) do not verify the server's digest unless they encrypt (RTMPE),
 * which the ingest does not offer; ffmpeg's own `-listen` server answers the same way.
 */
import { randomBytes } from 'node:crypto';

export const HANDSHAKE_BYTES = 1536;
const RTMP_VERSION = 3;

export type HandshakeStep =
  | { readonly kind: 'need-more' }
  /** Send `reply` (S0 S1 S2). */
  | { readonly kind: 'reply'; readonly reply: Buffer }
  /** Done: `rest` are the first chunk bytes. */
  | { readonly kind: 'done'; readonly rest: Buffer }
  | { readonly kind: 'error'; readonly reason: string };

export class Handshake {
  private buf: Buffer = Buffer.alloc(0);
  private replied = false;

  constructor(private readonly nowMs: () => number = Date.now) {}

  /** Feeds bytes; at most C0 + C1 + C2 are buffered. */
  push(input: Buffer): HandshakeStep {
    this.buf = this.buf.length === 0 ? input : Buffer.concat([this.buf, input]);
    if (!this.replied) {
      if (this.buf.length < 1) return { kind: 'need-more' };
      if (this.buf[0] !== RTMP_VERSION) return { kind: 'error', reason: `RTMP version ${String(this.buf[0])} (only 3, plain RTMP)` };
      if (this.buf.length < 1 + HANDSHAKE_BYTES) return { kind: 'need-more' };
      const c1 = this.buf.subarray(1, 1 + HANDSHAKE_BYTES);
      this.buf = this.buf.subarray(1 + HANDSHAKE_BYTES);
      this.replied = true;
      const s1 = Buffer.concat([Buffer.alloc(8), randomBytes(HANDSHAKE_BYTES - 8)]);
      s1.writeUInt32BE(this.nowMs() >>> 0, 0);
      return { kind: 'reply', reply: Buffer.concat([Buffer.from([RTMP_VERSION]), s1, c1]) };
    }
    if (this.buf.length < HANDSHAKE_BYTES) return { kind: 'need-more' };
    const rest = this.buf.subarray(HANDSHAKE_BYTES);
    this.buf = Buffer.alloc(0);
    return { kind: 'done', rest };
  }
}
