// The RTMP session state machine, driven as OBS and ffmpeg drive it: handshake, connect,
// releaseStream, FCPublish, createStream, publish, media, FCUnpublish.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAmf0, encodeAmf0, type Amf0Out } from '../../origin-adapter/rtmp/amf0.js';
import { ChunkReader } from '../../origin-adapter/rtmp/chunk-reader.js';
import { chunkMessage, MSG } from '../../origin-adapter/rtmp/chunk-writer.js';
import { HANDSHAKE_BYTES } from '../../origin-adapter/rtmp/handshake.js';
import { RtmpSession, type PublishDecision, type SessionStep } from '../../origin-adapter/rtmp/session.js';

const cmd = (values: readonly Amf0Out[], streamId = 0): Buffer => chunkMessage(3, MSG.command, streamId, encodeAmf0(values), 128);
const handshake = (): Buffer => Buffer.concat([Buffer.from([3]), Buffer.alloc(HANDSHAKE_BYTES, 1), Buffer.alloc(HANDSHAKE_BYTES, 2)]);

/** What the server sent, as command names and codes (the pusher's side of the conversation). */
function answers(steps: SessionStep[]): string[] {
  const reader = new ChunkReader();
  const out: string[] = [];
  // One message per buffer after the handshake's: a Set Chunk Size applies to the messages after it.
  for (const b of steps.flatMap((s) => s.send).slice(1)) {
    const r = reader.push(b);
    assert.ok(r.ok, r.ok ? '' : r.reason);
    for (const m of r.value) {
      if (m.typeId === MSG.setChunkSize) assert.ok(reader.setChunkSize(m.payload.readUInt32BE(0)).ok);
      if (m.typeId !== MSG.command) continue;
      const v = decodeAmf0(m.payload);
      assert.ok(v.ok);
      const info = v.value[3];
      out.push(`${String(v.value[0])}${info instanceof Map ? `:${String(info.get('code'))}` : ''}`);
    }
  }
  return out;
}

function session(decide: (name: string) => PublishDecision = () => ({ ok: true, stream: 'demo' })) {
  const names: string[] = [];
  const s = new RtmpSession({
    authorize: (n) => {
      names.push(n);
      return decide(n);
    },
  });
  return { s, names };
}

const prepare = [
  cmd(['connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live' }]),
  cmd(['releaseStream', 2, null, 'k']),
  cmd(['FCPublish', 3, null, 'k']),
  cmd(['createStream', 4, null]),
];

test('a push: connect, createStream, publish with its name, media as FLV tag data, FCUnpublish ends it', () => {
  const { s, names } = session();
  const steps = [s.receive(handshake()), s.receive(Buffer.concat(prepare)), s.receive(cmd(['publish', 5, null, 'demo?key=k', 'live'], 1))];
  assert.deepEqual(names, ['demo?key=k']);
  assert.deepEqual(steps[2]?.events, [{ type: 'published', stream: 'demo' }]);
  assert.deepEqual(answers(steps), ['_result:NetConnection.Connect.Success', '_result', '_result', '_result', 'onStatus:NetStream.Publish.Start']);
  assert.ok(s.publishing);
  const media = s.receive(Buffer.concat([chunkMessage(4, MSG.audio, 1, Buffer.from([0xaf, 1]), 128), chunkMessage(6, MSG.video, 1, Buffer.from([0x17, 1]), 128)]));
  assert.deepEqual(media.events.map((e) => e.type === 'media' && [e.tag, [...e.data]]), [[8, [0xaf, 1]], [9, [0x17, 1]]]);
  const end = s.receive(cmd(['FCUnpublish', 6, null, 'k']));
  assert.deepEqual(end.events, [{ type: 'unpublished' }]);
  assert.equal(end.close, 'unpublished');
});

test('a refused publish gets an error onStatus and the connection closes, marked refused', () => {
  const { s } = session(() => ({ ok: false, code: 'NetStream.Publish.BadName', description: 'wrong stream key' }));
  const steps = [s.receive(handshake()), s.receive(Buffer.concat([...prepare, cmd(['publish', 5, null, 'x'], 1)]))];
  assert.deepEqual(answers(steps).pop(), 'onStatus:NetStream.Publish.BadName');
  assert.equal(steps[1]?.close, 'wrong stream key');
  assert.equal(steps[1]?.refused, true);
  assert.equal(s.receive(chunkMessage(6, MSG.video, 1, Buffer.from([1]), 128)).events.length, 0, 'nothing after close');
});

test('protocol errors close the connection: another app, media before publish, publish before connect, endless commands, a bad handshake', () => {
  const other = session().s;
  other.receive(handshake());
  assert.match(String(other.receive(cmd(['connect', 1, { app: 'vod' }])).close), /app "vod"/);
  const early = session().s;
  early.receive(handshake());
  early.receive(prepare[0] ?? Buffer.alloc(0));
  assert.equal(early.receive(chunkMessage(6, MSG.video, 1, Buffer.from([1]), 128)).close, 'media before publish');
  const noConnect = session().s;
  noConnect.receive(handshake());
  assert.match(String(noConnect.receive(cmd(['publish', 1, null, 'x'])).close), /before connect/);
  const chatty = session().s;
  chatty.receive(handshake());
  chatty.receive(prepare[0] ?? Buffer.alloc(0));
  const many = Buffer.concat(Array.from({ length: 40 }, (_, i) => cmd(['getStreamLength', i, null])));
  assert.match(String(chatty.receive(many).close), /too many commands/);
  assert.match(String(session().s.receive(Buffer.from([0x47, 0x45, 0x54, 0x20])).close), /version/, 'an HTTP request on the RTMP port');
});

test('the pusher is acknowledged once it has sent its announced window', () => {
  const { s } = session();
  s.receive(handshake());
  s.receive(Buffer.concat(prepare));
  const win = Buffer.alloc(4);
  win.writeUInt32BE(1000);
  s.receive(Buffer.concat([chunkMessage(2, MSG.windowAckSize, 0, win, 128), cmd(['publish', 5, null, 'k'], 1)]));
  const step = s.receive(chunkMessage(6, MSG.video, 1, Buffer.alloc(1200), 128));
  const reader = new ChunkReader();
  const r = reader.push(Buffer.concat(step.send));
  assert.ok(r.ok && r.value.some((m) => m.typeId === MSG.ack), 'an Acknowledgement was sent');
});
