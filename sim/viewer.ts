import { DEFAULT_CONFIG, type RelaycastConfig } from '../client/config.js';
import { PageCore } from '../client/core/page-core.js';
import { emptyStats } from '../client/core/stats.js';
import { UploadBudget } from '../client/core/upload-budget.js';
import { UploadAllowance, type UploadSetting } from '../client/core/upload-allowance.js';
import type { Swarm } from '../client/swarm/swarm.js';
import { PeerLink, type LinkConfig } from '../client/transport/peer-link.js';
import type { Tracker } from '../origin-adapter/tracker.js';
import type { PlaylistUpdate } from '../protocol/worker.js';
import type { ByteRange } from '../protocol/segment-id.js';
import { createHash } from 'node:crypto';
import type { DelayKind, Metrics } from './metrics.js';
import type { Host, Network, SimChannel } from './network.js';
import { SWARM_ID, type Origin } from './origin.js';
import { Player, type PlayerConfig } from './player.js';
import type { Scheduler } from './scheduler.js';

/** What all viewers share: the clock, the network, the tracker, the origin, the counters. */
export interface World {
  readonly sched: Scheduler;
  readonly net: Network;
  readonly tracker: Tracker;
  readonly origin: Origin;
  readonly metrics: Metrics;
  /** Viewers present now, by peer id. */
  readonly viewers: Map<string, Viewer>;
  readonly player: PlayerConfig;
  /** The page's config (client/config.ts DEFAULT_CONFIG with the run's overrides). */
  readonly client: RelaycastConfig;
  readonly maxPeers: number;
  /** The page's upload budget setting in virtual bytes/s (client config maxUploadBytesPerSec): 0 = none, or 'auto'. */
  readonly budget: UploadSetting;
  /** False: the baseline, every page without relaycast (all segments from the origin). */
  readonly p2p: boolean;
  /** Links closed for a protocol violation, by reason (should stay empty). */
  readonly violations: Map<string, number>;
  /** The last tracker answer's origin fetchers (for the report). */
  seeders: readonly string[];
  fetchersPerSegment: number;
}

export interface ViewerSpec {
  readonly id: string;
  readonly uplinkBytesPerSec: number;
  readonly downlinkBytesPerSec: number;
  readonly accessLatencyMs: number;
  readonly uploads: boolean;
}

/** SHA-256 at Node's native speed (the page uses WebCrypto; the bytes are the same). */
const sha256 = (b: Uint8Array): Promise<Uint8Array> => Promise.resolve(new Uint8Array(createHash('sha256').update(b).digest()));

/** How long a PeerJS data connection takes to open: signaling offer/answer through the server, ICE, DTLS, SCTP. */
function connectDelayMs(latencyMs: number, originLatencyMs: number): number {
  return 4 * originLatencyMs + 100 + 9 * latencyMs;
}

/** The page-side PeerLink with one observation added: why links close. The protocol is PeerLink's, unchanged. */
class SimLink extends PeerLink {
  constructor(
    peerId: string,
    ch: SimChannel,
    swarm: Swarm,
    cfg: LinkConfig,
    clock: Scheduler['clock'],
    outgoing: boolean,
    private readonly onClosed: (reason: string) => void,
  ) {
    super(peerId, SWARM_ID, ch, swarm, cfg, clock, outgoing);
  }

  override close(reason: string): void {
    if (!this.isClosed) this.onClosed(reason);
    super.close(reason);
  }
}

/**
 * One viewer: the page's orchestration core (client/core/page-core.ts) with the unchanged
 * Swarm and PeerLinks, plugged into the simulated network, the in-process tracker and the
 * origin; its service worker's origin fallback; and a player.
 */
export class Viewer {
  readonly stats = emptyStats();
  readonly host: Host;
  readonly core: PageCore;
  readonly player: Player;
  /** Hop count of the copy held of each segment (by seq): 0 = from the origin. */
  readonly hops = new Map<number, number>();
  private readonly budget: UploadAllowance;
  private readonly dialing = new Set<string>();
  private present = false;
  private readonly scale: number;
  joinedAtMs = NaN;
  leftAtMs = NaN;

  constructor(
    private readonly w: World,
    readonly spec: ViewerSpec,
  ) {
    this.host = w.net.host(spec.uplinkBytesPerSec, spec.accessLatencyMs);
    this.scale = w.net.cfg.payloadScale;
    const clock = w.sched.clock;
    // The page's own allowance on real bytes: a fixed budget scaled down, 'auto' with its floor and ceiling scaled.
    const setting = w.budget === 'auto' ? 'auto' : w.budget / this.scale;
    const bucket = new UploadBudget(0, () => clock.now(), (ms) => w.sched.sleep(ms));
    this.budget = new UploadAllowance(setting, () => this.core.streamBytesPerSec(), bucket, this.scale);
    const m = w.metrics;
    // Byte caps are in real bytes: the page's virtual store cap is scaled down.
    const cfg: RelaycastConfig = { ...w.client, maxStoreBytes: Math.floor(w.client.maxStoreBytes / this.scale) };
    this.core = new PageCore(
      cfg,
      {
        clock,
        selfId: () => (this.present ? spec.id : undefined),
        mesh: {
          connect: (remote) => this.dial(remote),
          dialingCount: () => this.dialing.size,
          isDialing: (remote) => this.dialing.has(remote),
        },
        joinTracker: () => this.announce(),
        originFetch: (url, _range, part, why) => this.originFetchForSwarm(url, part, why),
        refreshManifest: () => this.refreshManifest(),
        // Whole copies are compared with the origin's bytes (onStored); hash lists are checked for real.
        verifier: {
          remember: () => undefined,
          verify: () => Promise.resolve('ok'),
          verifyList: (id, list) => Promise.resolve(w.origin.checkList(id, list)),
          describe: (id) => w.origin.describe(id),
        },
        uploadRate: () => this.budget.rate(),
        uploadAllowed: () => spec.uploads,
        throttle: (n) => this.throttle(n),
        usable: () => this.present,
        onBan: (_peerId, reason) => w.violations.set(reason, (w.violations.get(reason) ?? 0) + 1),
        newLink: (remoteId, swarm, ch, outgoing) =>
          new SimLink(remoteId, ch as SimChannel, swarm, this.core.linkConfig(), clock, outgoing, (reason) => {
            if (m.inWindow(w.sched.now())) m.closedLinks.set(reason, (m.closedLinks.get(reason) ?? 0) + 1);
          }),
        onStored: (id, hop, bytes) => this.onStored(id, hop, bytes),
      },
      this.stats,
      // Pieces are in real bytes, like the byte caps above: a piece is one 64 KiB frame on the wire.
      { pieceBytes: w.origin.cfg.pieceBytes, digest: sha256 },
    );
    this.player = new Player(w.player, {
      now: () => clock.now(),
      after: (ms, fn) => void w.sched.after(ms, fn),
      load: (seq, bufferMs) => this.load(seq, bufferMs),
      onPlay: (ok) => {
        if (!w.metrics.inWindow(clock.now())) return;
        w.metrics.plays++;
        if (!ok) w.metrics.stalls++;
      },
      onStallEnd: (ms) => {
        if (w.metrics.inWindow(clock.now())) w.metrics.stallMs += ms;
      },
      alive: () => this.present,
    });
  }

  get id(): string {
    return this.spec.id;
  }

  get alive(): boolean {
    return this.present;
  }

  /** The viewer's one swarm, once its first playlist arrived. */
  get swarm(): Swarm | undefined {
    return this.core.swarm(SWARM_ID);
  }

  readyLinks(): number {
    return this.core.readyLinks();
  }

  /** uploaded / downloaded segment bytes so far (undefined before any download). */
  uploadRatio(): number | undefined {
    const down = this.stats.peerBytes + this.stats.originBytes;
    return down > 0 ? this.stats.uploadedBytes / down : undefined;
  }

  /** Bytes that left this viewer's uplink over what its uplink could carry while it was present (must stay <= 1). */
  uplinkUtilization(nowMs: number): number {
    const end = Number.isNaN(this.leftAtMs) ? nowMs : this.leftAtMs;
    const capacity = (this.spec.uplinkBytesPerSec * Math.max(0, end - this.joinedAtMs)) / 1000;
    return capacity > 0 ? this.host.sentBytes / capacity : 0;
  }

  join(): void {
    this.present = true;
    this.joinedAtMs = this.w.sched.now();
    this.w.viewers.set(this.id, this);
    this.refreshPlaylist();
  }

  leave(): void {
    if (!this.present) return;
    this.present = false;
    this.leftAtMs = this.w.sched.now();
    this.w.viewers.delete(this.id);
    this.core.destroy();
  }

  // ---- the page's tracker client and mesh (client/transport/tracker-client.ts, client/transport/mesh.ts) ----

  /** One announce, then again after the interval the tracker asked for. */
  private announce(): void {
    if (!this.present) return;
    // The upload rate the page reports, in virtual bytes like the uplinks the tracker compares.
    const report = this.core.trackerReport(SWARM_ID);
    const rate = report.uploadBytesPerSec === undefined ? {} : { uploadBytesPerSec: Math.round(report.uploadBytesPerSec * this.scale) };
    const received = report.received?.map((r) => ({ peer: r.peer, bytesPerSec: Math.round(r.bytesPerSec * this.scale) }));
    const { answer } = this.w.tracker.announce({ type: 'announce', swarm: SWARM_ID, peerId: this.id, uploads: this.spec.uploads, ...report, ...rate, ...(received ? { received } : {}) });
    this.w.sched.after(2 * this.w.origin.cfg.originLatencyMs, () => {
      if (!this.present) return;
      this.w.seeders = answer.seeders;
      this.w.fetchersPerSegment = answer.fetchersPerSegment;
      this.core.onTrackerAnswer(answer);
    });
    this.w.sched.after(answer.announceIntervalMs, () => this.announce());
  }

  private dial(remoteId: string): void {
    if (this.dialing.has(remoteId)) return;
    this.dialing.add(remoteId);
    const sched = this.w.sched;
    const remote = this.w.viewers.get(remoteId);
    const latency = this.spec.accessLatencyMs + (remote?.spec.accessLatencyMs ?? 30);
    const delay = connectDelayMs(latency, this.w.origin.cfg.originLatencyMs);
    sched.after(delay, () => {
      const r = this.w.viewers.get(remoteId);
      if (!this.present || !r) {
        // connect() to a peer that is gone fails silently: the mesh gives up after connectTimeoutMs.
        sched.after(Math.max(0, DEFAULT_CONFIG.connectTimeoutMs - delay), () => this.dialing.delete(remoteId));
        return;
      }
      this.dialing.delete(remoteId);
      const [mine, theirs] = this.w.net.pair(this.host, r.host);
      r.attach(this.id, theirs, false);
      this.attach(remoteId, mine, true);
    });
  }

  /** A connection opened (client/transport/mesh.ts): the core admits it or it is closed. */
  attach(remoteId: string, ch: SimChannel, outgoing: boolean): void {
    const m = this.w.metrics;
    const link = this.present ? this.core.attach(remoteId, SWARM_ID, ch, outgoing) : undefined;
    if (!link) {
      if (m.inWindow(this.w.sched.now())) m.refusedLinks++;
      ch.close();
      return;
    }
    if (m.inWindow(this.w.sched.now())) m.openedLinks++;
    ch.onData = (d) => link.receive(d);
    ch.onClose = () => link.close('closed');
    link.start();
  }

  /**
   * PeerLink takes from the budget once per frame. Here one frame carries a whole segment,
   * which the channel sends as 64 KiB wire frames: take the first wire frame's share now and
   * book the rest as debt for the uploads that follow, as a page pacing its frames would.
   */
  private throttle(realBytes: number): Promise<void> {
    const parts = Math.max(1, Math.ceil((realBytes * this.scale) / this.w.net.cfg.wireChunkBytes));
    const first = realBytes / parts;
    const wait = this.budget.take(first);
    if (parts > 1) void this.budget.take(realBytes - first);
    return wait;
  }

  /** A copy was stored: its hops from the origin, when it came, and whether its bytes are the origin's. */
  private onStored(id: string, hop: number, bytes: Uint8Array): void {
    const seq = this.w.origin.seqOf(id);
    this.hops.set(seq, hop);
    this.w.origin.check(seq, bytes);
    if (hop > 0) this.noteDelay('peerCopy', seq);
  }

  private noteDelay(kind: DelayKind, seq: number): void {
    const o = this.w.origin;
    const at = o.availableAtMs(seq);
    if (this.w.metrics.inWindow(at)) this.w.metrics.delay(kind, (this.w.sched.now() - at) / 1000);
  }

  // ---- the service worker and the player ----

  private refreshPlaylist(): void {
    if (!this.present) return;
    this.fetchPlaylist((p) => {
      const newest = p.segments[p.segments.length - 1]?.seq ?? -1;
      for (const seq of this.hops.keys()) if (seq < newest - 2 * DEFAULT_CONFIG.keepSegments) this.hops.delete(seq);
      if (this.w.p2p) this.core.onPlaylist(p);
      this.player.onPlaylist(newest);
    });
    this.w.sched.after(this.w.origin.cfg.segmentMs, () => this.refreshPlaylist());
  }

  /** The Swarm asks the worker to read the manifest again now (rc-refresh): one playlist fetch, for the page only. */
  private refreshManifest(): void {
    if (this.w.metrics.inWindow(this.w.sched.now())) this.w.metrics.manifestRefreshes++;
    this.fetchPlaylist((p) => {
      if (this.w.p2p) this.core.onPlaylist(p);
    });
  }

  /** One playlist fetch: the origin's playlist as of one latency from now, handed over one round trip from now if the viewer is still here. */
  private fetchPlaylist(then: (p: PlaylistUpdate) => void): void {
    const sched = this.w.sched;
    const o = this.w.origin;
    const p = o.playlist(sched.now() + o.cfg.originLatencyMs);
    sched.after(2 * o.cfg.originLatencyMs, () => {
      if (this.present) then(p);
    });
  }

  /** The Swarm asks the worker to fetch a segment it owns, or the pieces of one that no peer delivered in time (rc-origin-fetch). */
  private async originFetchForSwarm(url: string, part: ByteRange | undefined, why: string | undefined): Promise<Uint8Array | undefined> {
    const seq = this.w.origin.seqOf(url);
    if (part) return this.w.origin.fetch(seq, this.spec.downlinkBytesPerSec, why === 'head' ? 'head' : 'fill', undefined, part);
    const bytes = await this.w.origin.fetch(seq, this.spec.downlinkBytesPerSec, 'owner');
    if (bytes) this.noteDelay('ownerCopy', seq);
    return bytes;
  }

  /** The player's segment request through the worker: the page (Swarm.get) within the deadline, else the origin. */
  private async load(seq: number, bufferAheadMs: number): Promise<void> {
    const o = this.w.origin;
    const m = this.w.metrics;
    const id = o.url(seq);
    const inStore = this.swarm?.hasStored(id) ?? false;
    this.noteDelay('playerRequest', seq);
    // The worker's cap on the page's answer is maxPeerWaitMs (sw/config.ts); the page's deadline is what its core computes.
    const r = (this.w.p2p ? await this.core.get(SWARM_ID, id, seq, bufferAheadMs, this.w.client.maxPeerWaitMs) : undefined) ?? { hit: false, reason: 'p2p off', steps: [], deadlineMs: 0 };
    const deadlineMs = r.deadlineMs;
    if (!this.present) return;
    const now = this.w.sched.now();
    if (r.hit) {
      if (m.inWindow(now)) {
        if (inStore) m.requestsStore++;
        else m.requestsPeerWait++;
      }
      m.delivered(o.availableAtMs(seq), o.cfg.segmentBytes, this.hops.get(seq) ?? -1);
      return;
    }
    const fetchedAt = this.w.sched.now();
    const bytes = await o.fetch(seq, this.spec.downlinkBytesPerSec, deadlineMs === 0 ? 'startup' : 'miss', r.reason);
    if (!this.present) return;
    const t = this.w.sched.now();
    if (m.inWindow(t)) {
      m.requestsOrigin++;
      if (deadlineMs > 0) {
        const kind = `${this.spec.uploads ? 'uploader' : 'nonUploader'}${t - this.joinedAtMs < 30_000 ? 'Joined<30s' : ''}`;
        m.missesBy.set(kind, (m.missesBy.get(kind) ?? 0) + 1);
        m.missDeadlines.add(deadlineMs / 1000);
        if (m.missSamples.length < 40) m.missSamples.push({ atSec: Math.round(t) / 1000, seq, deadlineSec: Math.round(deadlineMs) / 1000, viewer: `${kind} ${this.id}`, steps: r.steps });
      }
    }
    m.delivered(o.availableAtMs(seq), o.cfg.segmentBytes, 0);
    if (!bytes) return;
    // The worker hands its copy to the page with the time it took (rc-fetched fetchMs).
    this.core.onOriginCopy(SWARM_ID, id, seq, bytes, this.w.sched.now() - fetchedAt);
  }
}
