/**
 * The RTMP commands a pusher sends, parsed once into a typed union (OBS and ffmpeg send
 * connect, releaseStream, FCPublish, createStream, publish, then FCUnpublish and deleteStream
 * at the end). Anything else is `other` and answered with nothing.
 */
import { err, ok, type Result } from '../../protocol/result.js';
import { decodeAmf0, stringField, type Amf0Value } from './amf0.js';
import { MSG } from './chunk-writer.js';

export type RtmpCommand =
  | { readonly name: 'connect'; readonly tx: number; readonly app: string; readonly tcUrl: string | undefined }
  | { readonly name: 'createStream'; readonly tx: number }
  | { readonly name: 'publish'; readonly tx: number; readonly streamName: string }
  | { readonly name: 'releaseStream' | 'FCPublish'; readonly tx: number }
  | { readonly name: 'FCUnpublish' | 'deleteStream' | 'closeStream'; readonly tx: number }
  | { readonly name: 'play'; readonly tx: number }
  | { readonly name: 'other'; readonly command: string; readonly tx: number };

const ENDING = ['FCUnpublish', 'deleteStream', 'closeStream'] as const;
const PREPARING = ['releaseStream', 'FCPublish'] as const;

/** AMF3 commands (type 17) start with a 0 byte and then carry AMF0, as Flash sends them. */
function amf0Body(typeId: number, payload: Buffer): Buffer | undefined {
  if (typeId === MSG.command) return payload;
  if (typeId === MSG.amf3Command && payload[0] === 0) return payload.subarray(1);
  return undefined;
}

export function parseCommand(typeId: number, payload: Buffer): Result<RtmpCommand> {
  const body = amf0Body(typeId, payload);
  if (body === undefined) return err('not an AMF0 command');
  const decoded = decodeAmf0(body);
  if (!decoded.ok) return decoded;
  const [name, txRaw, cmdObject, ...args] = decoded.value;
  if (typeof name !== 'string' || name.length === 0) return err('command without a name');
  const tx = typeof txRaw === 'number' && Number.isFinite(txRaw) ? txRaw : 0;
  const firstString = (vs: readonly Amf0Value[]): string | undefined => (typeof vs[0] === 'string' ? vs[0] : undefined);
  switch (name) {
    case 'connect': {
      const app = stringField(cmdObject, 'app');
      if (app === undefined) return err('connect without an app');
      return ok({ name, tx, app, tcUrl: stringField(cmdObject, 'tcUrl') });
    }
    case 'createStream':
      return ok({ name, tx });
    case 'publish': {
      const streamName = firstString(args);
      if (streamName === undefined) return err('publish without a stream name');
      return ok({ name, tx, streamName });
    }
    case 'play':
      return ok({ name, tx });
    default: {
      const preparing = PREPARING.find((n) => n === name);
      if (preparing !== undefined) return ok({ name: preparing, tx });
      const ending = ENDING.find((n) => n === name);
      if (ending !== undefined) return ok({ name: ending, tx });
      return ok({ name: 'other', command: name.slice(0, 64), tx });
    }
  }
}

/**
 * The body of a data message (type 18) as an FLV script tag: `@setDataFrame` (what encoders
 * send so a server stores the metadata) is dropped, leaving `onMetaData` and its values.
 * Other data messages are not part of the stream.
 */
export function metadataTag(payload: Buffer): Buffer | undefined {
  const decoded = decodeAmf0(payload);
  if (!decoded.ok) return undefined;
  const [first, second] = decoded.value;
  if (first === 'onMetaData') return payload;
  if (first === '@setDataFrame' && second === 'onMetaData') {
    // The first value is a string marker (1 byte) + length (2 bytes) + its bytes.
    return payload.subarray(3 + payload.readUInt16BE(1));
  }
  return undefined;
}
