/**
 * One pusher's RTMP connection as a state machine, without I/O: bytes in; bytes to send,
 * events and a close reason out. The socket (ingest-server.ts) applies them. States:
 *
 *   handshake -> connect (waits for `connect` to app "live") -> ready (releaseStream, FCPublish,
 *   createStream) -> publishing (after `publish` was authorized: audio, video, metadata flow)
 *   -> closed (refused, unpublished, or a protocol error)
 *
 * The stream key check and the one-publisher rule are the `authorize` callback's.
 */
import type { Amf0Out } from './amf0.js';
import { ChunkReader, CHUNK_LIMITS, type ChunkLimits, type RtmpMessage } from './chunk-reader.js';
import { command, control, MSG } from './chunk-writer.js';
import { metadataTag, parseCommand, type RtmpCommand } from './commands.js';
import type { FlvTagType } from './flv.js';
import { Handshake } from './handshake.js';

export const RTMP_APP = 'live';

export type PublishDecision =
  | { readonly ok: true; readonly stream: string }
  | { readonly ok: false; readonly code: 'NetStream.Publish.BadName' | 'NetStream.Publish.Denied'; readonly description: string };

export type SessionEvent =
  | { readonly type: 'published'; readonly stream: string }
  | { readonly type: 'media'; readonly tag: FlvTagType; readonly timestampMs: number; readonly data: Buffer }
  | { readonly type: 'unpublished' };

export interface SessionStep {
  readonly send: Buffer[];
  readonly events: SessionEvent[];
  /** Set when the connection must be closed (after `send` is written). */
  readonly close: string | undefined;
  /** The close is a refused publish (already reported by `authorize`). */
  readonly refused?: boolean;
}

export interface SessionOptions {
  /** Decides a `publish`: the name is the stream key field as the pusher sent it. */
  readonly authorize: (publishName: string) => PublishDecision;
  readonly limits?: ChunkLimits;
  /** Commands accepted before `publish` (encoders send about five). */
  readonly maxCommandsBeforePublish?: number;
}

/** What the ingest tells pushers it acknowledges in (bytes) and lets them send before an ack. */
const WINDOW_BYTES = 5_000_000;
const OUT_CHUNK_SIZE = 4096;
const STREAM_ID = 1;

type State = 'handshake' | 'connect' | 'ready' | 'publishing' | 'closed';
type MutableStep = { send: Buffer[]; events: SessionEvent[]; close: string | undefined; refused?: boolean };

export class RtmpSession {
  private state: State = 'handshake';
  private readonly handshake = new Handshake();
  private readonly chunks: ChunkReader;
  private outChunk = 128;
  private received = 0;
  private peerWindow = 0;
  private ackedAt = 0;
  private commands = 0;
  private readonly maxCommands: number;

  constructor(private readonly o: SessionOptions) {
    this.chunks = new ChunkReader(o.limits ?? CHUNK_LIMITS);
    this.maxCommands = o.maxCommandsBeforePublish ?? 32;
  }

  get publishing(): boolean {
    return this.state === 'publishing';
  }

  receive(bytes: Buffer): SessionStep {
    const step: MutableStep = { send: [], events: [], close: undefined };
    if (this.state === 'closed') return step;
    this.received += bytes.length;
    let input = bytes;
    if (this.state === 'handshake') {
      for (;;) {
        const h = this.handshake.push(input);
        input = Buffer.alloc(0);
        if (h.kind === 'need-more') return step;
        if (h.kind === 'error') return this.fail(step, h.reason);
        if (h.kind === 'reply') {
          step.send.push(h.reply);
          continue; // C2 may have come with C1
        }
        this.state = 'connect';
        input = h.rest;
        break;
      }
    }
    const msgs = this.chunks.push(input);
    if (!msgs.ok) return this.fail(step, msgs.reason);
    for (const m of msgs.value) {
      this.message(m, step);
      if (step.close !== undefined) break;
    }
    if (this.peerWindow > 0 && this.received - this.ackedAt >= this.peerWindow && step.close === undefined) {
      this.ackedAt = this.received;
      step.send.push(control.ack(this.received, this.outChunk));
    }
    return step;
  }

  private fail(step: MutableStep, reason: string): SessionStep {
    this.state = 'closed';
    step.close = reason;
    return step;
  }

  private message(m: RtmpMessage, step: MutableStep): void {
    switch (m.typeId) {
      case MSG.setChunkSize: {
        const size = m.payload.length >= 4 ? m.payload.readUInt32BE(0) & 0x7fffffff : 0;
        const r = this.chunks.setChunkSize(size);
        if (!r.ok) this.fail(step, r.reason);
        return;
      }
      case MSG.abort:
        if (m.payload.length >= 4) this.chunks.abort(m.payload.readUInt32BE(0));
        return;
      case MSG.windowAckSize:
        if (m.payload.length >= 4) this.peerWindow = m.payload.readUInt32BE(0);
        return;
      case MSG.command:
      case MSG.amf3Command:
        this.command(m, step);
        return;
      case MSG.audio:
      case MSG.video:
      case MSG.data: {
        if (this.state !== 'publishing') {
          if (m.typeId !== MSG.data) this.fail(step, 'media before publish');
          return;
        }
        const data = m.typeId === MSG.data ? metadataTag(m.payload) : m.payload;
        if (data !== undefined && data.length > 0) step.events.push({ type: 'media', tag: m.typeId === MSG.audio ? 8 : m.typeId === MSG.video ? 9 : 18, timestampMs: m.timestamp, data });
        return;
      }
      default:
        // Acks, user control events, shared objects, aggregates: nothing a publish needs.
        return;
    }
  }

  private reply(step: SessionStep, values: readonly Amf0Out[], streamId = 0): void {
    step.send.push(command(values, streamId, this.outChunk));
  }

  private command(m: RtmpMessage, step: MutableStep): void {
    const parsed = parseCommand(m.typeId, m.payload);
    if (!parsed.ok) {
      this.fail(step, `bad command: ${parsed.reason}`);
      return;
    }
    const c: RtmpCommand = parsed.value;
    if (this.state !== 'publishing' && ++this.commands > this.maxCommands) {
      this.fail(step, 'too many commands before publish');
      return;
    }
    switch (c.name) {
      case 'connect': {
        if (this.state !== 'connect') return void this.fail(step, 'connect twice');
        const app = c.app.split('?')[0]?.replace(/\/+$/, '');
        if (app !== RTMP_APP) {
          this.reply(step, ['_error', c.tx, null, { level: 'error', code: 'NetConnection.Connect.Rejected', description: `unknown app "${c.app.slice(0, 64)}": push to rtmp://HOST:PORT/${RTMP_APP}` }]);
          return void this.fail(step, `connect to app "${c.app.slice(0, 64)}"`);
        }
        step.send.push(control.windowAckSize(WINDOW_BYTES, this.outChunk), control.setPeerBandwidth(WINDOW_BYTES, this.outChunk), control.setChunkSize(OUT_CHUNK_SIZE, this.outChunk));
        this.outChunk = OUT_CHUNK_SIZE;
        this.reply(step, ['_result', c.tx, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 }]);
        this.state = 'ready';
        return;
      }
      case 'releaseStream':
      case 'FCPublish':
        if (this.state === 'ready') this.reply(step, ['_result', c.tx, null, undefined]);
        return;
      case 'createStream':
        if (this.state !== 'ready') return void this.fail(step, 'createStream before connect');
        this.reply(step, ['_result', c.tx, null, STREAM_ID]);
        return;
      case 'publish':
        return this.publish(c.tx, c.streamName, step);
      case 'play':
        return void this.fail(step, 'play: this server takes pushes only');
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        if (this.state === 'publishing') {
          step.events.push({ type: 'unpublished' });
          this.fail(step, 'unpublished');
        }
        return;
      case 'other':
        return;
    }
  }

  private publish(tx: number, name: string, step: MutableStep): void {
    if (this.state !== 'ready') return void this.fail(step, 'publish before connect, or twice');
    const d = this.o.authorize(name);
    if (!d.ok) {
      this.reply(step, ['onStatus', tx, null, { level: 'error', code: d.code, description: d.description }], STREAM_ID);
      step.refused = true;
      return void this.fail(step, d.description);
    }
    step.send.push(control.streamBegin(STREAM_ID, this.outChunk));
    this.reply(step, ['onStatus', tx, null, { level: 'status', code: 'NetStream.Publish.Start', description: `${d.stream} is now published`, details: d.stream }], STREAM_ID);
    this.state = 'publishing';
    step.events.push({ type: 'published', stream: d.stream });
  }
}
