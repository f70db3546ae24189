/**
 * AMF0 (Action Message Format 0), the encoding of RTMP commands (`connect`, `publish`, …) and of
 * the stream's `onMetaData`. The reader takes bytes from the network, so it is bounded (depth,
 * value count) and returns a reason instead of throwing; objects are Maps, so a key such as
 * `__proto__` is only a key.
 */
import { err, ok, type Result } from '../../protocol/result.js';

export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Object | readonly Amf0Value[];
export type Amf0Object = ReadonlyMap<string, Amf0Value>;

const MARKER = {
  number: 0x00,
  boolean: 0x01,
  string: 0x02,
  object: 0x03,
  null: 0x05,
  undefined: 0x06,
  ecmaArray: 0x08,
  objectEnd: 0x09,
  strictArray: 0x0a,
  date: 0x0b,
  longString: 0x0c,
} as const;

export interface Amf0Limits {
  /** Objects and arrays nested this deep at most. */
  readonly maxDepth: number;
  /** Values in one message, nested ones included. */
  readonly maxValues: number;
}

export const AMF0_LIMITS: Amf0Limits = { maxDepth: 8, maxValues: 4096 };

class Reader {
  pos = 0;
  values = 0;
  constructor(
    readonly buf: Buffer,
    readonly limits: Amf0Limits,
  ) {}
  left(): number {
    return this.buf.length - this.pos;
  }
}

type Step<T> = Result<T>;

function readUtf8(r: Reader, len: number): Step<string> {
  if (r.left() < len) return err('string runs past the message');
  const s = r.buf.toString('utf8', r.pos, r.pos + len);
  r.pos += len;
  return ok(s);
}

function readShortString(r: Reader): Step<string> {
  if (r.left() < 2) return err('truncated string length');
  const len = r.buf.readUInt16BE(r.pos);
  r.pos += 2;
  return readUtf8(r, len);
}

/** Key/value pairs up to the empty key and object-end marker (objects and ECMA arrays). */
function readProperties(r: Reader, depth: number): Step<Amf0Object> {
  const out = new Map<string, Amf0Value>();
  for (;;) {
    const key = readShortString(r);
    if (!key.ok) return key;
    if (key.value === '') {
      if (r.left() < 1 || r.buf[r.pos] !== MARKER.objectEnd) return err('object without its end marker');
      r.pos += 1;
      return ok(out);
    }
    const v = readValue(r, depth + 1);
    if (!v.ok) return v;
    out.set(key.value, v.value);
  }
}

function readValue(r: Reader, depth: number): Step<Amf0Value> {
  if (depth > r.limits.maxDepth) return err('nested too deep');
  if (++r.values > r.limits.maxValues) return err('too many values');
  if (r.left() < 1) return err('truncated value');
  const marker = r.buf[r.pos++];
  switch (marker) {
    case MARKER.number: {
      if (r.left() < 8) return err('truncated number');
      const n = r.buf.readDoubleBE(r.pos);
      r.pos += 8;
      return ok(n);
    }
    case MARKER.boolean: {
      if (r.left() < 1) return err('truncated boolean');
      return ok(r.buf[r.pos++] !== 0);
    }
    case MARKER.string:
      return readShortString(r);
    case MARKER.longString: {
      if (r.left() < 4) return err('truncated string length');
      const len = r.buf.readUInt32BE(r.pos);
      r.pos += 4;
      return readUtf8(r, len);
    }
    case MARKER.object:
      return readProperties(r, depth);
    case MARKER.ecmaArray: {
      // The count is a hint only (encoders get it wrong); the end marker ends it.
      if (r.left() < 4) return err('truncated array count');
      r.pos += 4;
      return readProperties(r, depth);
    }
    case MARKER.strictArray: {
      if (r.left() < 4) return err('truncated array count');
      const count = r.buf.readUInt32BE(r.pos);
      r.pos += 4;
      // Every value takes at least one byte: a count beyond the bytes left is a lie.
      if (count > r.left()) return err('array count beyond the message');
      const out: Amf0Value[] = [];
      for (let i = 0; i < count; i++) {
        const v = readValue(r, depth + 1);
        if (!v.ok) return v;
        out.push(v.value);
      }
      return ok(out);
    }
    case MARKER.date: {
      if (r.left() < 10) return err('truncated date');
      const ms = r.buf.readDoubleBE(r.pos);
      r.pos += 10; // the 2-byte time zone is reserved and ignored
      return ok(new Date(ms));
    }
    case MARKER.null:
      return ok(null);
    case MARKER.undefined:
      return ok(undefined);
    default:
      return err(`unsupported AMF0 marker ${String(marker)}`);
  }
}

/** Every value in `buf`, in order. */
export function decodeAmf0(buf: Buffer, limits: Amf0Limits = AMF0_LIMITS): Result<Amf0Value[]> {
  const r = new Reader(buf, limits);
  const out: Amf0Value[] = [];
  while (r.left() > 0) {
    const v = readValue(r, 0);
    if (!v.ok) return v;
    out.push(v.value);
  }
  return ok(out);
}

/** What the ingest sends: its own answers, objects written as plain records. */
export type Amf0Out = number | boolean | string | null | undefined | { readonly [k: string]: Amf0Out };

function stringBytes(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(Math.min(body.length, 0xffff));
  return Buffer.concat([len, body.subarray(0, 0xffff)]);
}

function encodeOne(v: Amf0Out, parts: Buffer[]): void {
  if (v === null) parts.push(Buffer.from([MARKER.null]));
  else if (v === undefined) parts.push(Buffer.from([MARKER.undefined]));
  else if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = MARKER.number;
    b.writeDoubleBE(v, 1);
    parts.push(b);
  } else if (typeof v === 'boolean') parts.push(Buffer.from([MARKER.boolean, v ? 1 : 0]));
  else if (typeof v === 'string') parts.push(Buffer.from([MARKER.string]), stringBytes(v));
  else {
    parts.push(Buffer.from([MARKER.object]));
    for (const [k, x] of Object.entries(v)) {
      parts.push(stringBytes(k));
      encodeOne(x, parts);
    }
    parts.push(Buffer.from([0, 0, MARKER.objectEnd]));
  }
}

export function encodeAmf0(values: readonly Amf0Out[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) encodeOne(v, parts);
  return Buffer.concat(parts);
}

/** `obj[key]` when it is a string. */
export function stringField(obj: Amf0Value, key: string): string | undefined {
  if (!(obj instanceof Map)) return undefined;
  const v: Amf0Value = obj.get(key);
  return typeof v === 'string' ? v : undefined;
}
