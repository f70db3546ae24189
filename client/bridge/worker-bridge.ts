import { requestOverPort } from '../../protocol/port-request.js';
import {
  parseOriginReply,
  parseWorkerToPage,
  type ManifestsSeen,
  type MeshHello,
  type OriginFetch,
  type PlaylistUpdate,
  type RefreshManifest,
  type SegmentReply,
} from '../../protocol/worker.js';
import type { ByteRange } from '../../protocol/segment-id.js';
import type { WorkerBoundaryBytes } from '../../protocol/stats.js';
import { ManifestWatch } from './manifest-watch.js';

export interface BridgeHandler {
  onPlaylist(p: PlaylistUpdate): void;
  /** The player asked for a segment; answer within the worker's cap. */
  onGet(swarm: string, id: string, seq: number, maxWaitMs: number): Promise<Uint8Array | string>;
  /** `fetchMs`: how long the worker's origin fetch took (its fallback for the player), when it said. */
  onFetched(swarm: string, id: string, seq: number, bytes: Uint8Array, fetchMs: number | undefined): void;
}

const ORIGIN_FETCH_TIMEOUT_MS = 15_000;

/** The page's side of the worker<->page bridge. */
export class WorkerBridge {
  private helloTimer: ReturnType<typeof setInterval> | undefined;
  private nextReqId = 1;
  private readonly onMessage = (e: MessageEvent): void => this.handle(e);
  private readonly manifests = new ManifestWatch();

  constructor(
    private readonly sw: ServiceWorkerContainer,
    private readonly h: BridgeHandler,
    private readonly helloIntervalMs: number,
    /** Where the segment bytes crossing to and from the worker are counted (the page's stats). */
    private readonly bytes: WorkerBoundaryBytes = { toWorkerBytes: 0, fromWorkerBytes: 0, copiedBytes: 0 },
  ) {}

  start(): void {
    this.sw.addEventListener('message', this.onMessage);
    // Workers are stopped when idle and lose their globals: say "I run a mesh" again and again,
    // with the manifests this page loaded (the worker re-learns any it does not know).
    this.manifests.start();
    const hello = (): void => {
      const ctl = this.sw.controller;
      if (!ctl) return;
      const mesh: MeshHello = { type: 'rc-mesh' };
      ctl.postMessage(mesh);
      const urls = this.manifests.list();
      const learn: ManifestsSeen = { type: 'rc-learn', urls };
      if (urls.length > 0) ctl.postMessage(learn);
    };
    hello();
    this.helloTimer = setInterval(hello, this.helloIntervalMs);
    this.sw.addEventListener('controllerchange', hello);
  }

  get controlled(): boolean {
    return this.sw.controller !== null;
  }

  /** Asks the worker to read a live swarm's manifest again now (it answers with `rc-playlist`). */
  refresh(swarm: string): void {
    const msg: RefreshManifest = { type: 'rc-refresh', swarm };
    this.sw.controller?.postMessage(msg);
  }

  /** Asks the worker to fetch a known segment (or `part` of it) from the origin. Resolves undefined on any failure. */
  async originFetch(url: string, range?: ByteRange, part?: ByteRange): Promise<Uint8Array | undefined> {
    const ctl = this.sw.controller;
    if (!ctl) return undefined;
    const reqId = this.nextReqId++;
    const msg: OriginFetch = { type: 'rc-origin-fetch', reqId, url, ...(range ? { range } : {}), ...(part ? { part } : {}) };
    const r = await requestOverPort({
      channel: new MessageChannel(),
      reqId,
      post: (port) => ctl.postMessage(msg, [port as MessagePort]),
      parse: parseOriginReply,
      timeoutMs: ORIGIN_FETCH_TIMEOUT_MS,
      timers: { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>) },
    });
    if (!r.ok || r.value.type !== 'rc-origin-bytes') return undefined;
    this.bytes.fromWorkerBytes += r.value.bytes.byteLength;
    return new Uint8Array(r.value.bytes);
  }

  destroy(): void {
    clearInterval(this.helloTimer);
    this.manifests.stop();
    this.sw.removeEventListener('message', this.onMessage);
  }

  private handle(e: MessageEvent): void {
    const m = parseWorkerToPage(e.data);
    if (!m.ok) return; // Not ours (a site's own worker messages) or malformed.
    const msg = m.value;
    if (msg.type === 'rc-playlist') return this.h.onPlaylist(msg);
    if (msg.type === 'rc-fetched') {
      this.bytes.fromWorkerBytes += msg.bytes.byteLength;
      return this.h.onFetched(msg.swarm, msg.id, msg.seq, new Uint8Array(msg.bytes), msg.fetchMs);
    }
    const port = e.ports[0];
    if (!port) return;
    const reply = (r: SegmentReply, transfer: Transferable[] = []): void => {
      try {
        port.postMessage(r, transfer);
      } catch {
        // Worker gone.
      }
      port.close();
    };
    this.h.onGet(msg.swarm, msg.id, msg.seq, msg.maxWaitMs).then(
      (r) => {
        if (typeof r === 'string') return reply({ type: 'rc-miss', reqId: msg.reqId, reason: r });
        // Copy: the store keeps its bytes to serve peers; the copy is transferred to the worker.
        const copy = r.slice().buffer;
        this.bytes.copiedBytes += copy.byteLength;
        this.bytes.toWorkerBytes += copy.byteLength;
        reply({ type: 'rc-hit', reqId: msg.reqId, bytes: copy }, [copy]);
      },
      (err: unknown) => reply({ type: 'rc-miss', reqId: msg.reqId, reason: `error: ${String(err)}` }),
    );
  }
}
