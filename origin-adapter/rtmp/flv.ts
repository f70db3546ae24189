/**
 * FLV, the container RTMP media travels in: the ingest turns each audio, video and metadata
 * message of a publish into an FLV tag and writes them to ffmpeg's stdin (`-f flv -i pipe:0`),
 * so ffmpeg never faces the network.
 */

export type FlvTagType = 8 | 9 | 18;

/** The file header (audio and video present) and PreviousTagSize0. */
export function flvHeader(): Buffer {
  return Buffer.from([0x46, 0x4c, 0x56, 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]);
}

/** One tag and the PreviousTagSize after it. `timestampMs` is the message's RTMP timestamp. */
export function flvTag(type: FlvTagType, timestampMs: number, data: Buffer): Buffer {
  const head = Buffer.alloc(11);
  head[0] = type;
  head.writeUIntBE(data.length, 1, 3);
  const ts = timestampMs >>> 0;
  head.writeUIntBE(ts & 0xffffff, 4, 3);
  head[7] = (ts >>> 24) & 0xff; // TimestampExtended: the upper 8 bits
  // StreamID (3 bytes) is always 0.
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(11 + data.length);
  return Buffer.concat([head, data, tail]);
}
