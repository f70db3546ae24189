/**
 * RTMP chunk stream reader (RTMP 1.0 spec, section 5.3): bytes in, whole messages out. A pusher
 * sends interleaved chunks of several messages (audio, video, commands), each chunk header
 * compressed against the previous one on the same chunk stream. Input comes from anyone who
 * can reach the ingest port, so every allocation is bounded: the message size, the chunk
 * streams in use, and the bytes held in half-received messages. A violation is a reason, and
 * the session closes the connection.
 */
import { err, ok, type Result } from '../../protocol/result.js';

export interface RtmpMessage {
  readonly csid: number;
  readonly typeId: number;
  readonly streamId: number;
  /** Milliseconds, modulo 2^32 as the protocol counts them. */
  readonly timestamp: number;
  readonly payload: Buffer;
}

export interface ChunkLimits {
  /** One message (a keyframe of a high-bitrate stream is the largest). */
  readonly maxMessageBytes: number;
  /** Chunk streams with state at once. */
  readonly maxChunkStreams: number;
  /** Bytes held in messages not yet complete, all chunk streams together. */
  readonly maxPartialBytes: number;
  /** Largest chunk size a peer may set. */
  readonly maxChunkSize: number;
}

export const CHUNK_LIMITS: ChunkLimits = {
  maxMessageBytes: 8 * 1024 * 1024,
  maxChunkStreams: 16,
  maxPartialBytes: 16 * 1024 * 1024,
  maxChunkSize: 1024 * 1024,
};

const DEFAULT_CHUNK_SIZE = 128;
const EXTENDED = 0xffffff;
const TWO_32 = 0x1_0000_0000;

/** What a chunk stream remembers from its previous chunk header. */
interface StreamState {
  timestamp: number;
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
  /** The last header's timestamp field was 0xFFFFFF: type 3 chunks then carry the 4-byte field too. */
  extended: boolean;
  /** The message being received, if any. */
  body: Buffer | undefined;
  filled: number;
}

/** Fixed header sizes after the basic header, by chunk type (fmt). */
const HEADER_BYTES = [11, 7, 3, 0] as const;

export class ChunkReader {
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly streams = new Map<number, StreamState>();
  private partialBytes = 0;
  /** Bytes of an incomplete chunk header carried to the next push (at most 18). */
  private pending: Buffer = Buffer.alloc(0);
  /** The chunk whose payload is being read: its stream and bytes left in this chunk. */
  private current: { csid: number; left: number } | undefined;

  constructor(private readonly limits: ChunkLimits = CHUNK_LIMITS) {}

  /** Set Chunk Size from the peer (protocol control message 1). */
  setChunkSize(size: number): Result<void> {
    if (!Number.isInteger(size) || size < 1 || size > this.limits.maxChunkSize) return err(`chunk size ${size} out of range`);
    this.chunkSize = size;
    return ok(undefined);
  }

  /** Abort Message (protocol control message 2): drop the half-received message of `csid`. */
  abort(csid: number): void {
    const s = this.streams.get(csid);
    if (s?.body !== undefined) {
      this.partialBytes -= s.body.length;
      s.body = undefined;
      s.filled = 0;
    }
    if (this.current?.csid === csid) this.current = undefined;
  }

  /** Feeds bytes; returns the messages they completed, or why the stream is broken. */
  push(input: Buffer): Result<RtmpMessage[]> {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, input]) : input;
    const out: RtmpMessage[] = [];
    for (;;) {
      if (this.current !== undefined) {
        const taken = this.payload(buf, out);
        if (!taken.ok) return taken;
        buf = buf.subarray(taken.value);
        if (this.current !== undefined) break; // needs more bytes
        continue;
      }
      if (buf.length === 0) break;
      const header = this.header(buf);
      if (!header.ok) return header;
      if (header.value === 0) break; // incomplete header: keep it for the next push
      buf = buf.subarray(header.value);
    }
    this.pending = this.current === undefined ? Buffer.from(buf) : Buffer.alloc(0);
    return ok(out);
  }

  /** Parses one chunk header at the start of `buf`; returns its length, 0 when `buf` holds only part of it. */
  private header(buf: Buffer): Result<number> {
    const b0 = buf[0] ?? 0;
    const fmt = b0 >> 6;
    let csid = b0 & 0x3f;
    let at = 1;
    if (csid === 0) {
      if (buf.length < 2) return ok(0);
      csid = 64 + (buf[1] ?? 0);
      at = 2;
    } else if (csid === 1) {
      if (buf.length < 3) return ok(0);
      csid = 64 + (buf[1] ?? 0) + (buf[2] ?? 0) * 256;
      at = 3;
    }
    const fixed = HEADER_BYTES[fmt] ?? 0;
    if (buf.length < at + fixed) return ok(0);
    let s = this.streams.get(csid);
    if (s === undefined) {
      if (fmt !== 0) return err(`chunk type ${fmt} on chunk stream ${csid} before any type 0 header`);
      if (this.streams.size >= this.limits.maxChunkStreams) return err('too many chunk streams');
      s = { timestamp: 0, delta: 0, length: 0, typeId: 0, streamId: 0, extended: false, body: undefined, filled: 0 };
      this.streams.set(csid, s);
    }
    const starting = s.body === undefined;
    if (!starting && fmt !== 3) return err(`new header (type ${fmt}) inside a message on chunk stream ${csid}`);
    let tsField = 0;
    if (fmt <= 2) tsField = buf.readUIntBE(at, 3);
    const extended = fmt <= 2 ? tsField === EXTENDED : s.extended;
    const total = at + fixed + (extended ? 4 : 0);
    if (buf.length < total) return ok(0);
    const ts = extended ? buf.readUInt32BE(at + fixed) : tsField;
    if (fmt <= 1) {
      s.length = buf.readUIntBE(at + 3, 3);
      s.typeId = buf[at + 6] ?? 0;
    }
    if (fmt === 0) s.streamId = buf.readUInt32LE(at + 7);
    if (fmt <= 2) s.extended = extended;
    if (starting) {
      if (fmt === 0) {
        s.timestamp = ts;
        s.delta = 0;
      } else {
        // Types 1 and 2 carry a delta; type 3 at a message start repeats the previous one.
        if (fmt !== 3) s.delta = ts;
        s.timestamp = (s.timestamp + s.delta) % TWO_32;
      }
      if (s.length > this.limits.maxMessageBytes) return err(`message of ${s.length} bytes over the limit`);
      if (this.partialBytes + s.length > this.limits.maxPartialBytes) return err('too many bytes in partial messages');
      s.body = Buffer.allocUnsafe(s.length);
      s.filled = 0;
      this.partialBytes += s.length;
    }
    this.current = { csid, left: Math.min(this.chunkSize, s.length - s.filled) };
    return ok(total);
  }

  /** Copies payload bytes of the current chunk; returns how many it took. Emits the message when complete. */
  private payload(buf: Buffer, out: RtmpMessage[]): Result<number> {
    const cur = this.current;
    const s = cur && this.streams.get(cur.csid);
    if (cur === undefined || s === undefined || s.body === undefined) return err('chunk without a message');
    const n = Math.min(cur.left, buf.length);
    buf.copy(s.body, s.filled, 0, n);
    s.filled += n;
    cur.left -= n;
    if (cur.left > 0) return ok(n);
    this.current = undefined;
    if (s.filled >= s.length) {
      out.push({ csid: cur.csid, typeId: s.typeId, streamId: s.streamId, timestamp: s.timestamp, payload: s.body });
      this.partialBytes -= s.length;
      s.body = undefined;
      s.filled = 0;
    }
    return ok(n);
  }
}
