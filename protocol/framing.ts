import { LIMITS } from './limits.js';
import { err, ok, type Result } from './result.js';

/**
 * Binary frames for segment bytes on a data channel.
 *
 * PeerJS `binary` serialization reassembles chunks trusting the sender's
 * counts (forged and unbounded half-built messages were reproduced), and a
 * `raw` send above the SCTP max message size (256 KiB) silently kills the
 * channel. So we send `raw` and frame ourselves:
 *
 *   u8  magic (0x52 'R')
 *   u8  version (1)
 *   u32 reqId
 *   u32 totalBytes   (whole segment)
 *   u32 offset       (of this chunk's payload)
 *   ... payload      (1..LIMITS.chunkPayloadBytes bytes)
 */
export const FRAME_HEADER_BYTES = 14;
const MAGIC = 0x52;
const VERSION = 1;

export interface Frame {
  readonly reqId: number;
  readonly totalBytes: number;
  readonly offset: number;
  readonly payload: Uint8Array;
}

/** One frame carrying `payload`, which starts at `offset` of a segment of `totalBytes`. */
export function encodeFrame(reqId: number, totalBytes: number, offset: number, payload: Uint8Array): ArrayBuffer {
  return writeFrame(new ArrayBuffer(FRAME_HEADER_BYTES + payload.byteLength), reqId, totalBytes, offset, payload);
}

/** encodeFrame into `buf`, which must be exactly FRAME_HEADER_BYTES + payload bytes long (a reused buffer). */
export function writeFrame(buf: ArrayBuffer, reqId: number, totalBytes: number, offset: number, payload: Uint8Array): ArrayBuffer {
  if (buf.byteLength !== FRAME_HEADER_BYTES + payload.byteLength) throw new RangeError('frame buffer size');
  const view = new DataView(buf);
  view.setUint8(0, MAGIC);
  view.setUint8(1, VERSION);
  view.setUint32(2, reqId);
  view.setUint32(6, totalBytes);
  view.setUint32(10, offset);
  new Uint8Array(buf, FRAME_HEADER_BYTES).set(payload);
  return buf;
}

/** Lazily splits `bytes` into frames no larger than header + chunkPayloadBytes. */
export function* frames(reqId: number, bytes: Uint8Array, chunkBytes: number = LIMITS.chunkPayloadBytes): Generator<ArrayBuffer> {
  if (bytes.byteLength === 0 || bytes.byteLength > LIMITS.segmentBytes) throw new RangeError('segment size out of range');
  const size = Math.max(1, Math.min(chunkBytes, LIMITS.chunkPayloadBytes));
  for (let offset = 0; offset < bytes.byteLength; offset += size) {
    yield encodeFrame(reqId, bytes.byteLength, offset, bytes.subarray(offset, Math.min(offset + size, bytes.byteLength)));
  }
}

export function decodeFrame(buf: ArrayBuffer): Result<Frame> {
  if (buf.byteLength <= FRAME_HEADER_BYTES) return err('frame too short');
  if (buf.byteLength > FRAME_HEADER_BYTES + LIMITS.chunkPayloadBytes) return err('frame too large');
  const view = new DataView(buf);
  if (view.getUint8(0) !== MAGIC || view.getUint8(1) !== VERSION) return err('bad magic');
  const reqId = view.getUint32(2);
  const totalBytes = view.getUint32(6);
  const offset = view.getUint32(10);
  const payload = new Uint8Array(buf, FRAME_HEADER_BYTES);
  if (totalBytes === 0 || totalBytes > LIMITS.segmentBytes) return err('bad total');
  if (offset + payload.byteLength > totalBytes) return err('chunk past end');
  return ok({ reqId, totalBytes, offset, payload });
}

/**
 * Reassembles one segment from frames. Requires in-order, contiguous chunks
 * (a data channel is ordered and reliable), so memory is exactly totalBytes
 * and a forged offset or total is rejected instead of trusted.
 */
export class Reassembly {
  readonly bytes: Uint8Array;
  private received = 0;

  constructor(readonly reqId: number, readonly totalBytes: number) {
    this.bytes = new Uint8Array(totalBytes);
  }

  /** Returns 'more', 'done', or a reason the stream is invalid. */
  add(frame: Frame): Result<'more' | 'done'> {
    if (frame.reqId !== this.reqId) return err('wrong request');
    if (frame.totalBytes !== this.totalBytes) return err('total changed');
    if (frame.offset !== this.received) return err('out of order');
    this.bytes.set(frame.payload, frame.offset);
    this.received += frame.payload.byteLength;
    return ok(this.received === this.totalBytes ? 'done' : 'more');
  }

  get receivedBytes(): number {
    return this.received;
  }
}
