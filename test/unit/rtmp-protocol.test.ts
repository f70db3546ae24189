// The RTMP ingest's parsers, each with hostile input: AMF0, the chunk stream, the handshake,
// commands and the publish name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeAmf0, encodeAmf0 } from '../../origin-adapter/rtmp/amf0.js';
import { ChunkReader } from '../../origin-adapter/rtmp/chunk-reader.js';
import { chunkMessage, MSG } from '../../origin-adapter/rtmp/chunk-writer.js';
import { metadataTag, parseCommand } from '../../origin-adapter/rtmp/commands.js';
import { flvHeader, flvTag } from '../../origin-adapter/rtmp/flv.js';
import { Handshake, HANDSHAKE_BYTES } from '../../origin-adapter/rtmp/handshake.js';
import { checkPublish, parsePublishName } from '../../origin-adapter/rtmp/publish-auth.js';

const limits = { maxMessageBytes: 1024, maxChunkStreams: 4, maxPartialBytes: 2048, maxChunkSize: 4096 };

test('AMF0: what the ingest encodes decodes to the same values; objects are Maps', () => {
  const bytes = encodeAmf0(['connect', 1, { app: 'live', n: 2.5, ok: true, nested: { x: null } }, null, undefined]);
  const r = decodeAmf0(bytes);
  assert.ok(r.ok);
  const [name, tx, obj, nul, und] = r.value;
  assert.equal(name, 'connect');
  assert.equal(tx, 1);
  assert.ok(obj instanceof Map);
  assert.equal(obj.get('app'), 'live');
  assert.equal(obj.get('n'), 2.5);
  assert.ok(obj.get('nested') instanceof Map);
  assert.equal(nul, null);
  assert.equal(und, undefined);
});

test('AMF0: hostile input is a reason, never a throw, and stays bounded', () => {
  assert.equal(decodeAmf0(Buffer.from([0x02, 0xff, 0xff, 0x41])).ok, false, 'string longer than the message');
  assert.equal(decodeAmf0(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff])).ok, false, 'strict array count beyond the bytes');
  assert.equal(decodeAmf0(Buffer.from([0x03, 0x00, 0x01, 0x61, 0x05])).ok, false, 'object without its end');
  assert.equal(decodeAmf0(Buffer.from([0x11])).ok, false, 'AMF3 switch is not read');
  const deep = Buffer.concat([...Array.from({ length: 50 }, () => Buffer.from([0x03, 0x00, 0x01, 0x61]))]);
  assert.equal(decodeAmf0(deep).ok, false, 'nesting is bounded');
  const proto = decodeAmf0(encodeAmf0([{ __proto__x: 1 }, { ['__proto__']: 'x' } as Record<string, string>]));
  assert.ok(proto.ok);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void decodeAmf0(Buffer.from(b))));
});

test('chunks: messages split into chunks and interleaved come out whole, with their timestamps', () => {
  const reader = new ChunkReader(limits);
  const big = Buffer.alloc(300, 7);
  const a = chunkMessage(4, MSG.audio, 1, big, 128); // 3 chunks on chunk stream 4
  const v = chunkMessage(6, MSG.video, 1, Buffer.from([1, 2, 3]), 128);
  // Another message between two chunks of the first; fed a byte at a time, so headers and payloads are cut anywhere.
  const firstChunk = 12 + 128;
  const all = Buffer.concat([a.subarray(0, firstChunk), v, a.subarray(firstChunk)]);
  const got = [];
  for (const byte of all) {
    const r = reader.push(Buffer.from([byte]));
    assert.ok(r.ok, r.ok ? '' : r.reason);
    got.push(...r.value);
  }
  // The video message came between the audio one's chunks: it completes first.
  assert.deepEqual(got.map((m) => [m.csid, m.typeId, m.payload.length]), [[6, MSG.video, 3], [4, MSG.audio, 300]]);
  assert.ok(got[1]?.payload.equals(big));
});

test('chunks: type 1-3 headers take deltas and lengths from the stream before; Set Chunk Size applies', () => {
  const reader = new ChunkReader(limits);
  // csid 5: type 0 at t=1000, len 2; type 2 delta 40 (same length and type); type 3 (repeat the delta).
  const t0 = Buffer.from([0x05, 0x00, 0x03, 0xe8, 0, 0, 2, MSG.video, 1, 0, 0, 0, 0xaa, 0xbb]);
  const t2 = Buffer.from([0x85, 0x00, 0x00, 0x28, 0xcc, 0xdd]);
  const t3 = Buffer.from([0xc5, 0xee, 0xff]);
  const r = reader.push(Buffer.concat([t0, t2, t3]));
  assert.ok(r.ok);
  assert.deepEqual(r.value.map((m) => m.timestamp), [1000, 1040, 1080]);
  assert.ok(reader.setChunkSize(4096).ok);
  assert.equal(reader.setChunkSize(0).ok, false);
  assert.equal(reader.setChunkSize(1 << 30).ok, false);
});

test('chunks: hostile streams are refused with a reason, and never allocate past the limits', () => {
  const oversize = Buffer.from([0x04, 0, 0, 0, 0x10, 0, 0, MSG.video, 1, 0, 0, 0]); // 1 MiB message
  assert.match(String(pushReason(oversize)), /over the limit/);
  assert.match(String(pushReason(Buffer.from([0x44, 0, 0, 0, 0, 0, 1, 9]))), /before any type 0/);
  // Empty messages on five chunk streams: each stream keeps its header state, and four are allowed.
  const streams = Buffer.concat([3, 4, 5, 6, 7].map((cs) => Buffer.from([cs, 0, 0, 0, 0, 0, 0, MSG.video, 1, 0, 0, 0])));
  assert.match(String(pushReason(streams)), /too many chunk streams/);
  // Three 1023-byte messages, each left after its first 128-byte chunk: 3069 bytes held, 2048 allowed.
  const partial = Buffer.concat([3, 4, 5].map((cs) => Buffer.concat([Buffer.from([cs, 0, 0, 0, 0, 0x03, 0xff, MSG.video, 1, 0, 0, 0]), Buffer.alloc(128)])));
  assert.match(String(pushReason(partial)), /partial/);
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), (parts) => {
      const reader = new ChunkReader(limits);
      for (const p of parts) if (!reader.push(Buffer.from(p)).ok) return;
    }),
  );
});

function pushReason(bytes: Buffer): string | undefined {
  const r = new ChunkReader(limits).push(bytes);
  return r.ok ? undefined : r.reason;
}

test('handshake: C0 C1 get S0 S1 S2 (S2 echoes C1), C2 ends it, the rest is chunks; other versions are refused', () => {
  const h = new Handshake(() => 5);
  const c1 = Buffer.alloc(HANDSHAKE_BYTES, 9);
  assert.equal(h.push(Buffer.from([3])).kind, 'need-more');
  const reply = h.push(c1);
  assert.equal(reply.kind, 'reply');
  if (reply.kind !== 'reply') return;
  assert.equal(reply.reply.length, 1 + 2 * HANDSHAKE_BYTES);
  assert.equal(reply.reply[0], 3);
  assert.ok(reply.reply.subarray(1 + HANDSHAKE_BYTES).equals(c1));
  const done = h.push(Buffer.concat([Buffer.alloc(HANDSHAKE_BYTES), Buffer.from([1, 2])]));
  assert.equal(done.kind, 'done');
  if (done.kind === 'done') assert.deepEqual([...done.rest], [1, 2]);
  assert.equal(new Handshake().push(Buffer.from([6])).kind, 'error', 'RTMPE is not offered');
});

test('commands: connect, publish and the rest parse into their typed forms; garbage is a reason', () => {
  const connect = parseCommand(MSG.command, encodeAmf0(['connect', 1, { app: 'live', tcUrl: 'rtmp://h/live' }]));
  assert.deepEqual(connect.ok && connect.value, { name: 'connect', tx: 1, app: 'live', tcUrl: 'rtmp://h/live' });
  const publish = parseCommand(MSG.command, encodeAmf0(['publish', 5, null, 'demo?key=k', 'live']));
  assert.deepEqual(publish.ok && publish.value, { name: 'publish', tx: 5, streamName: 'demo?key=k' });
  const amf3 = parseCommand(MSG.amf3Command, Buffer.concat([Buffer.from([0]), encodeAmf0(['createStream', 2, null])]));
  assert.deepEqual(amf3.ok && amf3.value, { name: 'createStream', tx: 2 });
  assert.deepEqual(parseCommand(MSG.command, encodeAmf0(['FCUnpublish', 6, null, 'x'])).ok, true);
  assert.equal(parseCommand(MSG.command, encodeAmf0(['connect', 1, { tcUrl: 'x' }])).ok, false, 'connect without an app');
  assert.equal(parseCommand(MSG.command, encodeAmf0(['publish', 1, null])).ok, false, 'publish without a name');
  assert.equal(parseCommand(MSG.command, encodeAmf0([42])).ok, false);
});

test('metadata: @setDataFrame is dropped so the FLV script tag starts with onMetaData; other data messages are not media', () => {
  const meta = encodeAmf0(['onMetaData', { width: 320 }]);
  const set = Buffer.concat([encodeAmf0(['@setDataFrame']), meta]);
  assert.ok(metadataTag(set)?.equals(meta));
  assert.ok(metadataTag(meta)?.equals(meta));
  assert.equal(metadataTag(encodeAmf0(['onCuePoint', 1])), undefined);
});

test('FLV: the header and a tag with a timestamp past 24 bits (its upper byte in TimestampExtended)', () => {
  assert.deepEqual([...flvHeader()], [0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
  const tag = flvTag(9, 0x12345678, Buffer.from([1, 2, 3]));
  assert.equal(tag.length, 11 + 3 + 4);
  assert.equal(tag[0], 9);
  assert.equal(tag.readUIntBE(1, 3), 3);
  assert.equal(tag.readUIntBE(4, 3), 0x345678);
  assert.equal(tag[7], 0x12);
  assert.equal(tag.readUInt32BE(14), 14);
});

test('publish name: the key alone or <stream>?key=<key>; a wrong stream, a wrong or missing key are refused', () => {
  assert.deepEqual(parsePublishName('s3cretkey'), { stream: undefined, key: 's3cretkey' });
  assert.deepEqual(parsePublishName('demo?key=s3cretkey&x=1'), { stream: 'demo', key: 's3cretkey' });
  assert.deepEqual(parsePublishName('demo'), { stream: undefined, key: 'demo' });
  assert.deepEqual(parsePublishName('demo?'), { stream: 'demo', key: undefined });
  assert.deepEqual(checkPublish('s3cretkey', 'demo', 's3cretkey'), { ok: true, stream: 'demo' });
  assert.deepEqual(checkPublish('demo?key=s3cretkey', 'demo', 's3cretkey'), { ok: true, stream: 'demo' });
  const wrong = checkPublish('demo?key=nope', 'demo', 's3cretkey');
  assert.ok(!wrong.ok && /wrong stream key/.test(wrong.description));
  const missing = checkPublish('demo?', 'demo', 's3cretkey');
  assert.ok(!missing.ok && /missing/.test(missing.description));
  const other = checkPublish('other?key=s3cretkey', 'demo', 's3cretkey');
  assert.ok(!other.ok && /unknown stream/.test(other.description));
});
