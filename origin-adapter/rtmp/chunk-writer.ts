/**
 * The few messages the ingest sends a pusher (protocol control, user control, command answers),
 * as RTMP chunks. Each message gets a type 0 header and type 3 continuations; timestamps are 0.
 */
import { encodeAmf0, type Amf0Out } from './amf0.js';

/** Chunk streams by convention: 2 protocol control, 3 commands, 5 stream status. */
export const CSID = { control: 2, command: 3, status: 5 } as const;

export const MSG = {
  setChunkSize: 1,
  abort: 2,
  ack: 3,
  userControl: 4,
  windowAckSize: 5,
  setPeerBandwidth: 6,
  audio: 8,
  video: 9,
  amf3Data: 15,
  amf3Command: 17,
  data: 18,
  command: 20,
} as const;

export function chunkMessage(csid: number, typeId: number, streamId: number, payload: Buffer, chunkSize: number): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(12);
  head[0] = csid & 0x3f; // csid < 64 for every stream we use: a one-byte basic header
  head.writeUIntBE(0, 1, 3);
  head.writeUIntBE(payload.length, 4, 3);
  head[7] = typeId;
  head.writeUInt32LE(streamId, 8);
  parts.push(head);
  for (let at = 0; at < payload.length || at === 0; at += chunkSize) {
    if (at > 0) parts.push(Buffer.from([0xc0 | (csid & 0x3f)]));
    parts.push(payload.subarray(at, at + chunkSize));
    if (payload.length === 0) break;
  }
  return Buffer.concat(parts);
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

export const control = {
  setChunkSize: (size: number, chunkSize: number) => chunkMessage(CSID.control, MSG.setChunkSize, 0, u32(size), chunkSize),
  windowAckSize: (size: number, chunkSize: number) => chunkMessage(CSID.control, MSG.windowAckSize, 0, u32(size), chunkSize),
  setPeerBandwidth: (size: number, chunkSize: number) => chunkMessage(CSID.control, MSG.setPeerBandwidth, 0, Buffer.concat([u32(size), Buffer.from([2])]), chunkSize),
  ack: (received: number, chunkSize: number) => chunkMessage(CSID.control, MSG.ack, 0, u32(received % 0x1_0000_0000), chunkSize),
  /** User control event 0 (Stream Begin) for `streamId`. */
  streamBegin: (streamId: number, chunkSize: number) => chunkMessage(CSID.control, MSG.userControl, 0, Buffer.concat([Buffer.from([0, 0]), u32(streamId)]), chunkSize),
};

export function command(values: readonly Amf0Out[], streamId: number, chunkSize: number): Buffer {
  return chunkMessage(streamId === 0 ? CSID.command : CSID.status, MSG.command, streamId, encodeAmf0(values), chunkSize);
}
