import { addBounded } from '../protocol/bounded.js';
import type { ByteRange } from '../protocol/segment-id.js';
import { MAX_UPLOAD_BYTES_PER_SEC, type TrackerAnnounce, type TrackerPeers } from '../protocol/tracker.js';
import type { PlaylistUpdate } from '../protocol/worker.js';
import type { RelaycastConfig } from './config.js';
import { realClock } from './clock.js';
import { peerDeadlineMs, type MediaLike } from './deadline.js';
import { admitLink, freeLinks, peersToDial } from './link-policy.js';
import { Mesh } from './mesh.js';
import { OriginPace } from './origin-pace.js';
import { watchLag } from './lag-monitor.js';
import { PeerLink, type Channel } from './peer-link.js';
import { emptyStats, SLOW_REQUEST_MS, SLOW_REQUESTS_KEPT, type RelaycastStats } from './stats.js';
import { SegmentStore } from './store.js';
import { Swarm } from './swarm.js';
import { TrackerClient } from './tracker-client.js';
import { WorkerBridge } from './worker-bridge.js';
import { Verifier } from './integrity.js';
import { UploadBudget } from './upload-budget.js';
import type { VodPersistence } from './vod-persist.js';

/** Swarms one page joins at once (one per rendition it plays; a player switching renditions joins a few). */
const MAX_SWARMS = 4;
/** Banned peer ids remembered for the session. */
const MAX_BANNED = 1024;

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

/** The page side of relaycast: worker bridge + tracker + PeerJS mesh + swarms. */
export class Relaycast {
  private readonly statsData: RelaycastStats = emptyStats();
  private readonly swarms = new Map<string, Swarm>();
  /** Per swarm: when a link was last evicted for a newcomer (client/link-policy.ts). */
  private readonly linkState = new Map<string, { lastEvictionMs: number }>();
  /** Per swarm: uploaded bytes at the previous announce (the reported upload rate). */
  private readonly uploadMarks = new Map<string, { bytes: number; atMs: number }>();
  private readonly verifier: Verifier;
  /** Recent origin round trips through the worker: the peer deadline leaves them room (client/origin-pace.ts). */
  private readonly originPace: OriginPace;
  private stopLagWatch: () => void = () => undefined;
  private readonly banned = new Set<string>();
  private readonly budget: UploadBudget;
  private uploadConsent: boolean;
  private readonly bridge: WorkerBridge;
  private readonly mesh: Mesh;
  private readonly tracker: TrackerClient;
  private trackerP2P = true;
  /** The origin publishes no hashes and integrity is required: P2P stays off. */
  private hashesMissing = false;
  private destroyed = false;

  constructor(
    private readonly cfg: RelaycastConfig,
    private readonly env: PageEnv,
  ) {
    this.verifier = new Verifier(new URL(cfg.hashUrl, env.pageUrl).href);
    this.originPace = new OriginPace(cfg.maxPeerWaitMs + cfg.safetyMarginMs);
    this.budget = new UploadBudget(cfg.maxUploadBytesPerSec);
    this.uploadConsent = cfg.upload;
    this.bridge = new WorkerBridge(
      env.serviceWorker,
      {
        onPlaylist: (p) => this.onPlaylist(p),
        onGet: (swarm, id, seq, maxWaitMs) => this.onGet(swarm, id, seq, maxWaitMs),
        onFetched: (swarm, id, seq, bytes, fetchMs) => {
          if (fetchMs !== undefined) this.originPace.record(fetchMs, realClock.now());
          this.swarms.get(swarm)?.onOriginCopy(id, seq, bytes);
        },
      },
      cfg.meshHelloIntervalMs,
    );
    this.mesh = new Mesh(
      cfg,
      {
        attach: (remoteId, swarm, ch, outgoing) => this.attach(remoteId, swarm, ch, outgoing),
        onId: (id) => {
          this.statsData.peerId = id ?? null;
          if (id !== undefined) this.statsData.lastError = null;
          this.tracker.setPeerId(id);
        },
        onError: (m) => (this.statsData.lastError = m),
      },
      env.pageUrl,
    );
    this.tracker = new TrackerClient(
      new URL(cfg.trackerUrl, env.pageUrl).href,
      () => this.uploadAllowed(),
      {
        onPeers: (a) => this.onPeers(a),
        onError: (m) => (this.statsData.lastError = m),
      },
      undefined,
      (swarm) => this.trackerReport(swarm),
    );
  }

  start(): void {
    if (!this.cfg.p2p || this.destroyed) return;
    this.stopLagWatch = watchLag((ms) => this.originPace.record(ms, realClock.now()));
    this.bridge.start();
    this.mesh.start();
  }

  stats(): RelaycastStats {
    let peers = 0;
    for (const s of this.swarms.values()) for (const l of s.links.values()) if (l.isReady) peers++;
    return {
      ...this.statsData,
      slowRequests: this.statsData.slowRequests.slice(),
      peers,
      swarms: this.swarms.size,
      controlled: this.bridge.controlled,
      p2p: this.active() && !this.hashesMissing,
    };
  }

  /** Viewer consent: false stops serving peers at once (downloads from peers go on). */
  setUpload(on: boolean): void {
    this.uploadConsent = on;
  }

  /** Upload budget in bytes per second (0 = no limit). */
  setUploadLimit(bytesPerSec: number): void {
    if (Number.isFinite(bytesPerSec) && bytesPerSec >= 0) this.budget.setRate(bytesPerSec);
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
    for (const s of this.swarms.values()) s.destroy();
    this.swarms.clear();
    this.mesh.destroy();
  }

  private active(): boolean {
    return this.cfg.p2p && this.trackerP2P && !this.destroyed && this.bridge.controlled;
  }

  private onPlaylist(p: PlaylistUpdate): void {
    if (!p.integrity && this.cfg.integrity === 'required') {
      // No published hashes: peer bytes could not be checked, so peers are not used (docs/security.md).
      this.statsData.lastError = 'the origin publishes no segment hashes: P2P off (integrity: "off" accepts unverified peers)';
      this.hashesMissing = true;
      return;
    }
    this.hashesMissing = false;
    for (const s of p.segments) if (s.sha256 !== undefined) this.verifier.remember(s.id, s.sha256);
    let swarm = this.swarms.get(p.swarm);
    if (!swarm) {
      if (this.swarms.size >= MAX_SWARMS) return;
      // Live: the window near the edge. VOD: recently played segments, up to the byte cap, for later viewers.
      const keepSegments = p.live ? this.cfg.keepSegments : Number.MAX_SAFE_INTEGER;
      const maxBytes = Math.floor(this.cfg.maxStoreBytes / MAX_SWARMS);
      const store = new SegmentStore({ maxBytes, keepSegments });
      const disk = p.live ? undefined : this.env.vodPersistence;
      swarm = new Swarm(p.swarm, this.cfg, store, {
        selfId: () => this.mesh.id,
        originFetch: (url, range) => (this.active() ? this.timedOriginFetch(url, range) : Promise.resolve(undefined)),
        stats: this.statsData,
        uploadsInFlight: () => this.uploadsInFlight(),
        uploadBacklogBytes: () => this.uploadBacklogBytes(),
        verify: (id, bytes) => (this.cfg.integrity === 'off' ? Promise.resolve('ok') : this.verifier.verify(id, bytes)),
        onBadPeer: (peerId, reason) => this.ban(peerId, reason),
        uploadAllowed: () => this.uploadAllowed(),
        throttle: (n) => this.budget.take(n),
        refreshManifest: () => this.bridge.refresh(p.swarm),
        ...(disk ? { onKept: (seg) => void disk.put(p.swarm, seg) } : {}),
      });
      if (disk) {
        const s = swarm;
        void disk.restore(p.swarm, maxBytes).then((segs) => segs.forEach((seg) => s.restore(seg)));
      }
      this.swarms.set(p.swarm, swarm);
      this.tracker.join(p.swarm);
    }
    if (this.active()) swarm.onPlaylist(p);
  }

  /** An owner's fetch for the swarm, timed: it is the same path the player's fallback takes. */
  private async timedOriginFetch(url: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    const t0 = realClock.now();
    const bytes = await this.bridge.originFetch(url, range);
    if (bytes) this.originPace.record(realClock.now() - t0, realClock.now());
    return bytes;
  }

  private async onGet(swarmId: string, id: string, seq: number, maxWaitMs: number): Promise<Uint8Array | string> {
    const swarm = this.swarms.get(swarmId);
    if (!swarm || !this.active()) return 'p2p inactive';
    const margin = { safetyMarginMs: this.originPace.marginMs(this.cfg.safetyMarginMs, realClock.now()), maxPeerWaitMs: this.cfg.maxPeerWaitMs };
    const deadline = peerDeadlineMs(this.env.media(), margin, maxWaitMs);
    const t0 = performance.now();
    const r = await swarm.get(id, seq, deadline);
    const heldMs = performance.now() - t0;
    if (heldMs >= SLOW_REQUEST_MS || (!r.hit && r.steps.length > 0)) {
      const log = this.statsData.slowRequests;
      log.push({
        atSec: Math.round(t0) / 1000,
        file: id.slice(id.lastIndexOf('/') + 1, id.lastIndexOf('/') + 1 + 80),
        heldMs: Math.round(heldMs),
        deadlineMs: Math.round(deadline),
        answer: r.hit ? 'hit' : r.reason,
        steps: r.steps,
      });
      if (log.length > SLOW_REQUESTS_KEPT) log.shift();
    }
    return r.hit ? r.bytes : r.reason;
  }

  private onPeers(a: TrackerPeers): void {
    this.trackerP2P = a.p2p;
    const swarm = this.swarms.get(a.swarm);
    const self = this.mesh.id;
    if (!swarm || self === undefined) return;
    if (!a.p2p) {
      for (const l of [...swarm.links.values()]) l.close('p2p switched off');
      return;
    }
    swarm.setSwarmView(a.seeders.filter((s) => !this.banned.has(s)), a.fetchersPerSegment, a.swarmSize);
    const dial = peersToDial(a.peers, {
      self,
      swarmSize: a.swarmSize,
      maxPeers: this.cfg.maxPeers,
      links: swarm.links.size,
      dialing: this.mesh.dialingCount(a.swarm),
      linked: (id) => swarm.links.has(id),
      isDialing: (id) => this.mesh.isDialing(id, a.swarm),
      banned: (id) => this.banned.has(id),
    });
    for (const remote of dial) this.mesh.connect(remote, a.swarm);
  }

  /**
   * What the announce reports: link slots free in the swarm (client/link-policy.ts), and
   * the page's upload rate since its previous announce of that swarm (seeder choice).
   */
  private trackerReport(swarmId: string): Pick<TrackerAnnounce, 'freeLinks' | 'uploadBytesPerSec'> {
    const swarm = this.swarms.get(swarmId);
    if (!swarm) return {};
    const now = realClock.now();
    const last = this.uploadMarks.get(swarmId);
    const bytes = this.statsData.uploadedBytes;
    this.uploadMarks.set(swarmId, { bytes, atMs: now });
    const rate = last !== undefined && now > last.atMs ? Math.round(((bytes - last.bytes) * 1000) / (now - last.atMs)) : undefined;
    return {
      freeLinks: freeLinks({ maxPeers: this.cfg.maxPeers, links: swarm.links.size, dialing: this.mesh.dialingCount(swarmId) }),
      ...(rate === undefined ? {} : { uploadBytesPerSec: Math.min(MAX_UPLOAD_BYTES_PER_SEC, Math.max(0, rate)) }),
    };
  }

  private attach(remoteId: string, swarmId: string, ch: Channel, outgoing: boolean): PeerLink | undefined {
    const swarm = this.swarms.get(swarmId);
    const self = this.mesh.id;
    if (!swarm || !this.active() || self === undefined) return undefined;
    let state = this.linkState.get(swarmId);
    if (!state) this.linkState.set(swarmId, (state = { lastEvictionMs: -Infinity }));
    const admit = admitLink({
      self,
      remote: remoteId,
      outgoing,
      swarmSize: swarm.trackerSwarmSize,
      maxPeers: this.cfg.maxPeers,
      banned: this.banned.has(remoteId),
      nowMs: realClock.now(),
      links: swarm.links,
      state,
    });
    if (!admit) return undefined;
    const link = new PeerLink(remoteId, swarmId, ch, swarm, this.cfg, undefined, outgoing);
    swarm.addLink(link);
    return link;
  }

  /** Disconnect a peer from every swarm and never connect to it again this session. */
  private ban(peerId: string, reason: string): void {
    if (!this.banned.has(peerId)) {
      addBounded(this.banned, peerId, MAX_BANNED);
      this.statsData.bannedPeers++;
      this.statsData.lastBanReason = reason;
    }
    for (const s of this.swarms.values()) s.links.get(peerId)?.close(`banned: ${reason}`);
  }

  /** Bytes queued in all data channels of the page: they share one uplink. */
  private uploadBacklogBytes(): number {
    let n = 0;
    for (const s of this.swarms.values()) for (const l of s.links.values()) n += l.queuedBytes;
    return n;
  }

  private uploadsInFlight(): number {
    let n = 0;
    for (const s of this.swarms.values()) for (const l of s.links.values()) n += l.activeUploads;
    return n;
  }
}
