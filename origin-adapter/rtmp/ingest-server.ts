/**
 * The RTMP ingest: a TCP server that takes a streamer's push (OBS, ffmpeg) and hands the media,
 * as FLV, to the broadcast's packager. ffmpeg itself never listens on the network: the stream
 * key and the one-publisher rule are checked here, before a byte reaches it, and anyone who can
 * reach the port is bounded: connections in all and per address, a deadline to publish, a
 * silence limit while publishing, and refused attempts per address.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { putBounded } from '../../protocol/bounded.js';
import type { LogFn } from '../config.js';
import { flvTag } from './flv.js';
import { checkPublish } from './publish-auth.js';
import { RtmpSession, type PublishDecision } from './session.js';

export interface PublishSink {
  /** One FLV tag; false: the packager is behind, wait for drain before reading the socket again. */
  write(data: Buffer): boolean;
  onDrain(cb: () => void): void;
  /** The pusher left or was cut. Idempotent. */
  end(reason: string): void;
}

export interface IngestTarget {
  readonly stream: string;
  readonly key: string;
  /** Takes the one publisher slot; undefined while another pusher holds it. `cut` ends this pusher's connection. */
  claim(address: string, cut: (reason: string) => void): PublishSink | undefined;
}

export interface IngestLimits {
  readonly maxConnections: number;
  readonly connectionsPerAddress: number;
  /** From accept to an authorized `publish`. */
  readonly publishWithinMs: number;
  /** No byte from a publishing pusher for this long: it is gone (a cable pulled sends no FIN). */
  readonly silentMs: number;
  /** Refused publishes per address per minute; beyond, its connections are closed at once until the minute is over. */
  readonly refusalsPerMinute: number;
  readonly addressesRemembered: number;
}

export const INGEST_LIMITS: IngestLimits = {
  maxConnections: 16,
  connectionsPerAddress: 4,
  publishWithinMs: 10_000,
  silentMs: 10_000,
  refusalsPerMinute: 10,
  addressesRemembered: 1000,
};

export interface IngestServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface IngestServerOptions {
  readonly host: string;
  readonly port: number;
  readonly target: IngestTarget;
  readonly log: LogFn;
  readonly limits?: Partial<IngestLimits>;
  readonly nowMs?: () => number;
}

export async function startIngestServer(o: IngestServerOptions): Promise<IngestServer> {
  const limits: IngestLimits = { ...INGEST_LIMITS, ...o.limits };
  const now = o.nowMs ?? Date.now;
  const perAddress = new Map<string, number>();
  const refusals = new Map<string, { windowStartMs: number; count: number }>();
  const sockets = new Set<Socket>();

  const refusedRecently = (addr: string): boolean => {
    const r = refusals.get(addr);
    return r !== undefined && now() - r.windowStartMs < 60_000 && r.count >= limits.refusalsPerMinute;
  };
  const noteRefusal = (addr: string): void => {
    const r = refusals.get(addr);
    const fresh = r === undefined || now() - r.windowStartMs >= 60_000;
    putBounded(refusals, addr, fresh ? { windowStartMs: now(), count: 1 } : { ...r, count: r.count + 1 }, limits.addressesRemembered);
  };

  const server: Server = createServer((socket) => {
    const addr = socket.remoteAddress ?? '?';
    const held = perAddress.get(addr) ?? 0;
    if (sockets.size >= limits.maxConnections || held >= limits.connectionsPerAddress || refusedRecently(addr)) {
      socket.destroy();
      return;
    }
    perAddress.set(addr, held + 1);
    sockets.add(socket);
    let sink: PublishSink | undefined;
    let closing = false;
    const cut = (reason: string): void => {
      if (closing) return;
      closing = true;
      sink?.end(reason);
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const authorize = (name: string): PublishDecision => {
      const d = checkPublish(name, o.target.stream, o.target.key);
      if (!d.ok) {
        noteRefusal(addr);
        o.log(`ingest: refused a push from ${addr}: ${d.description}`);
        return d;
      }
      sink = o.target.claim(addr, cut);
      if (sink === undefined) {
        o.log(`ingest: refused a second push from ${addr}: ${o.target.stream} is live`);
        return { ok: false, code: 'NetStream.Publish.BadName', description: `${o.target.stream} is already live from another pusher` };
      }
      o.log(`ingest: ${addr} is live on ${o.target.stream}`);
      return d;
    };
    const session = new RtmpSession({ authorize });
    // A deadline for the whole way to `publish` (a byte now and then does not extend it), and a silence limit throughout.
    const deadline = setTimeout(() => {
      if (!session.publishing) cut('no publish in time');
    }, limits.publishWithinMs);
    deadline.unref();
    socket.setTimeout(limits.silentMs, () => cut(session.publishing ? 'the pusher went silent' : 'silent'));
    socket.on('data', (bytes: Buffer) => {
      if (closing) return;
      const step = session.receive(bytes);
      for (const b of step.send) socket.write(b);
      let behind = false;
      for (const ev of step.events) {
        if (ev.type === 'media' && sink !== undefined) behind = !sink.write(flvTag(ev.tag, ev.timestampMs, ev.data)) || behind;
      }
      if (behind && sink !== undefined) {
        // TCP backpressure to the pusher: its encoder sees a slow link, and the adapter holds one read's worth.
        socket.pause();
        sink.onDrain(() => socket.resume());
      }
      if (step.close !== undefined) {
        if (step.refused !== true && step.close !== 'unpublished') o.log(`ingest: closed ${addr}: ${step.close}`);
        cut(step.close);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(deadline);
      sockets.delete(socket);
      const left = (perAddress.get(addr) ?? 1) - 1;
      if (left <= 0) perAddress.delete(addr);
      else perAddress.set(addr, left);
      sink?.end('the pusher disconnected');
    });
  });
  // A backstop behind the counts above (which close a socket only after accepting it).
  server.maxConnections = limits.maxConnections * 2;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const a = server.address();
  return {
    port: typeof a === 'object' && a !== null ? a.port : o.port,
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
