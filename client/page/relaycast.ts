import { DEFAULT_TRACKER_URL, type RelaycastConfig } from '../config.js';
import { urlList } from '../transport/signal-endpoint.js';
import { realClock } from '../core/clock.js';
import { Verifier } from '../core/integrity.js';
import { PageCore } from '../core/page-core.js';
import { emptyStats, type MessageCount, type RelaycastStats } from '../core/stats.js';
import { UploadBudget } from '../core/upload-budget.js';
import { parseUploadSetting, UploadAllowance, type UploadSetting } from '../core/upload-allowance.js';
import { WorkerBridge } from '../bridge/worker-bridge.js';
import type { VodPersistence } from '../storage/vod-persist.js';
import { Mesh } from '../transport/mesh.js';
import { TrackerClient } from '../transport/tracker-client.js';
import { mediaBufferMs, type MediaLike } from '../core/deadline.js';
import { watchLag } from './lag-monitor.js';

export interface PageEnv {
  readonly serviceWorker: ServiceWorkerContainer;
  readonly pageUrl: string;
  /** The media elements whose buffers bound how long a peer may take. */
  readonly media: () => readonly MediaLike[];
  /** True while the browser asks to save data (navigator.connection.saveData): no upload then. */
  readonly saveData: () => boolean;
  /** VOD disk cache, when the site enabled it (`persistVodBytes`). */
  readonly vodPersistence?: VodPersistence;
}

/**
 * The page side of relaycast in a browser: the service-worker bridge, the PeerJS mesh and the
 * tracker's HTTP endpoint, plugged into the orchestration core (client/core/page-core.ts) that
 * the simulator runs too. What stays here is what only a browser has: media elements (the
 * deadline), timers that run late (the fallback pace) and the viewer's consent.
 */
export class Relaycast {
  private readonly statsData: RelaycastStats = emptyStats();
  private readonly verifier: Verifier;
  private stopLagWatch: () => void = () => undefined;
  private readonly budget: UploadAllowance;
  private uploadConsent: boolean;
  private readonly bridge: WorkerBridge;
  private readonly mesh: Mesh;
  private readonly tracker: TrackerClient;
  private readonly core: PageCore;
  private destroyed = false;

  constructor(
    private readonly cfg: RelaycastConfig,
    private readonly env: PageEnv,
  ) {
    this.verifier = new Verifier(new URL(cfg.hashUrl, env.pageUrl).href);
    this.budget = new UploadAllowance(parseUploadSetting(cfg.maxUploadBytesPerSec) ?? 'auto', () => this.core.streamBytesPerSec(), new UploadBudget(0));
    this.uploadConsent = cfg.upload;
    this.bridge = new WorkerBridge(
      env.serviceWorker,
      {
        onPlaylist: (p) => this.core.onPlaylist(p),
        onGet: (swarm, id, seq, maxWaitMs) => this.onGet(swarm, id, seq, maxWaitMs),
        onFetched: (swarm, id, seq, bytes, fetchMs) => this.core.onOriginCopy(swarm, id, seq, bytes, fetchMs),
      },
      cfg.meshHelloIntervalMs,
      this.statsData.worker,
    );
    this.mesh = new Mesh(
      cfg,
      {
        attach: (remoteId, swarm, ch, outgoing) => this.core.attach(remoteId, swarm, ch, outgoing),
        isBanned: (remoteId) => this.core.isBanned(remoteId),
        onId: (id, token) => {
          this.statsData.peerId = id ?? null;
          if (id !== undefined) this.statsData.lastError = null;
          // The tracker on the signaling node, when the lists pair nodes up (any node answers in a cluster).
          if (id !== undefined) this.tracker.prefer(this.mesh.signalNode);
          this.tracker.setPeerId(id, token);
        },
        onError: (m) => (this.statsData.lastError = m),
        counts: this.statsData.channel,
      },
      env.pageUrl,
    );
    this.tracker = new TrackerClient(
      urlList(cfg.trackerUrl, DEFAULT_TRACKER_URL).map((u) => new URL(u, env.pageUrl).href),
      () => this.uploadAllowed(),
      {
        onPeers: (a) => this.core.onTrackerAnswer(a),
        onError: (m) => (this.statsData.lastError = m),
      },
      undefined,
      (swarm) => this.core.trackerReport(swarm),
    );
    const disk = env.vodPersistence;
    this.core = new PageCore(cfg, {
      clock: realClock,
      selfId: () => this.mesh.id,
      mesh: this.mesh,
      joinTracker: (swarm) => this.tracker.join(swarm),
      originFetch: (url, range, part) => this.bridge.originFetch(url, range, part),
      refreshManifest: (swarm) => this.bridge.refresh(swarm),
      verifier: this.verifier,
      uploadAllowed: () => this.uploadAllowed(),
      throttle: (n) => this.budget.take(n),
      usable: () => !this.destroyed && this.bridge.controlled,
      ...(disk ? { vodDisk: disk } : {}),
    }, this.statsData);
  }

  start(): void {
    if (!this.cfg.p2p || this.destroyed) return;
    this.stopLagWatch = watchLag((ms) => this.core.noteLag(ms));
    this.bridge.start();
    this.mesh.start();
  }

  stats(): RelaycastStats {
    return {
      ...this.statsData,
      slowRequests: this.statsData.slowRequests.slice(),
      channel: { sent: copyCounts(this.statsData.channel.sent), received: copyCounts(this.statsData.channel.received) },
      worker: { ...this.statsData.worker },
      peers: this.core.readyPeers(),
      candidates: this.mesh.routes(),
      swarms: this.core.swarmCount,
      controlled: this.bridge.controlled,
      p2p: this.core.p2pOn,
    };
  }

  /** Viewer consent: false stops serving peers at once (downloads from peers go on). */
  setUpload(on: boolean): void {
    this.uploadConsent = on;
  }

  /** Upload budget in bytes per second (0 = no limit), or 'auto' (follows the stream's bitrate). */
  setUploadLimit(setting: UploadSetting): void {
    const s = parseUploadSetting(setting);
    if (s !== undefined) this.budget.set(s);
  }

  uploadAllowed(): boolean {
    return this.uploadConsent && !this.env.saveData();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.stopLagWatch();
    this.bridge.destroy();
    this.tracker.destroy();
    this.core.destroy();
    this.mesh.destroy();
  }

  /** What the player has buffered comes from the page's media elements (no player API). */
  private async onGet(swarmId: string, id: string, seq: number, maxWaitMs: number): Promise<Uint8Array | string> {
    const r = await this.core.get(swarmId, id, seq, mediaBufferMs(this.env.media()), maxWaitMs);
    if (!r) return 'p2p inactive';
    return r.hit ? r.bytes : r.reason;
  }
}

function copyCounts(t: Readonly<Record<string, MessageCount>>): Record<string, MessageCount> {
  const out: Record<string, MessageCount> = {};
  for (const [k, c] of Object.entries(t)) out[k] = { ...c };
  return out;
}
