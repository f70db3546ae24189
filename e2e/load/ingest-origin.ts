/**
 * `--ingest`: the load run's stream is pushed over RTMP, as a streamer would from OBS, to an
 * adapter started with the RTMP ingest; the pusher burns its wall clock into the picture, so
 * viewers' pages read how far behind the streamer they are (e2e/support/clock-probe.ts).
 */
import { randomBytes } from 'node:crypto';
import { startAdapter, type Adapter, type AdapterOptions } from '../../origin-adapter/index.js';
import { untilLiveWindowSlides } from '../support/live-stream.js';
import { startPusher, type Pusher } from '../support/pusher.js';
import type { LoadOptions } from './options.js';

export interface IngestOrigin {
  readonly adapter: Adapter;
  readonly pusher: Pusher;
  close(): Promise<void>;
}

export interface IngestOriginOptions {
  readonly adapter?: Partial<AdapterOptions>;
  /** The pusher's constant video bitrate (kbit/s); default 500. */
  readonly videoKbps?: number;
}

export async function startIngestOrigin(o: IngestOriginOptions = {}): Promise<IngestOrigin> {
  const key = randomBytes(12).toString('base64url');
  const { bitrateKbps: _b, ...adapterOptions } = o.adapter ?? {};
  const adapter = await startAdapter({ port: 0, log: () => undefined, vodSec: 0, ...adapterOptions, ingest: 'rtmp', ingestPort: 0, streamKey: key });
  const stream = adapterOptions.streamName ?? 'demo';
  let pusher: Pusher | undefined;
  try {
    pusher = await startPusher({ url: `rtmp://127.0.0.1:${adapter.ingestPort ?? 0}/live/${stream}?key=${key}`, clock: true, ...(o.videoKbps !== undefined ? { videoKbps: o.videoKbps } : {}) });
    const p = pusher;
    // Viewers join a stream that runs, past its first window; a pusher that failed ends the wait.
    await Promise.race([
      untilLiveWindowSlides(adapter),
      p.exited.then((code) => {
        throw new Error(`the pusher stopped (${String(code)}): ${p.stderr()}`);
      }),
    ]);
  } catch (e) {
    await pusher?.stop();
    await adapter.close();
    throw e;
  }
  const pushing = pusher;
  return {
    adapter,
    pusher: pushing,
    async close() {
      await pushing.stop();
      await adapter.close();
    },
  };
}

/**
 * Runs `run` on an ingest origin of its own (and, for a concurrent baseline, a second one with its
 * own pusher, so each origin counter counts one run); an `after` baseline shares the first.
 */
export async function withIngestOrigins<T>(o: LoadOptions, run: (o: LoadOptions) => Promise<T>): Promise<T> {
  const opts = { ...(o.adapter ? { adapter: o.adapter } : {}), ...(o.adapter?.bitrateKbps !== undefined ? { videoKbps: o.adapter.bitrateKbps } : {}) };
  o.progress('ingest: pushing the stream over RTMP, its clock burned into the picture');
  const concurrent = o.baseline && o.p2p && o.baselineMode === 'concurrent';
  const origins = await Promise.all([startIngestOrigin(opts), ...(concurrent ? [startIngestOrigin(opts)] : [])]);
  try {
    const [main, base] = origins;
    if (main === undefined) throw new Error('no ingest origin');
    return await run({ ...o, origin: main.adapter, ...(base ? { baselineOrigin: base.adapter } : {}) });
  } finally {
    await Promise.all(origins.map((x) => x.close()));
  }
}
