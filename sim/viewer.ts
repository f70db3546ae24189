import { DEFAULT_CONFIG, type RelaycastConfig } from '../client/config.js';
import { admitLink, freeLinks, peersToDial } from '../client/link-policy.js';
import { PeerLink, type PullResult } from '../client/peer-link.js';
import { emptyStats } from '../client/stats.js';
import { SegmentStore } from '../client/store.js';
import { MIN_SLOW_THRESHOLD_BYTES_PER_SEC, Swarm, type GetResult } from '../client/swarm.js';
import { UploadBudget } from '../client/upload-budget.js';
import type { Tracker } from '../origin-adapter/tracker.js';
import type { TrackerPeers } from '../protocol/tracker.js';
import type { PlaylistUpdate } from '../protocol/worker.js';
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
  /** The page's upload budget in virtual bytes/s (client config maxUploadBytesPerSec); 0 = none. */
  readonly budgetBytesPerSec: number;
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

/** How long a PeerJS data connection takes to open: signaling offer/answer through the server, ICE, DTLS, SCTP. */
function connectDelayMs(latencyMs: number, originLatencyMs: number): number {
  return 4 * originLatencyMs + 100 + 9 * latencyMs;
}

/**
 * The page-side PeerLink with one observation added: which peer a pulled copy came
 * from, to count hops from the origin. The protocol is PeerLink's, unchanged.
 */
class SimLink extends PeerLink {
  constructor(
    peerId: string,
    ch: SimChannel,
    swarm: Swarm,
    private readonly simClock: Scheduler['clock'],
    private readonly onPeerCopy: (peerId: string, id: string) => void,
    cfg: RelaycastConfig,
    outgoing: boolean,
    private readonly onClosed: (reason: string) => void,
    private readonly canonical: (id: string, bytes: Uint8Array) => Uint8Array,
  ) {
    super(peerId, SWARM_ID, ch, swarm, cfg, simClock, outgoing);
  }

  override close(reason: string): void {
    if (!this.isClosed) this.onClosed(reason);
    super.close(reason);
  }

  override pull(...args: Parameters<PeerLink['pull']>): Promise<PullResult> {
    const [id] = args;
    return super.pull(...args).then((r) => {
      if (!r.ok) return r;
      this.onPeerCopy(this.peerId, id);
      // The same bytes, in the origin's shared buffer (memory; see Origin.canonical).
      return { ok: true, bytes: this.canonical(id, r.bytes) };
    });
  }
}

/**
 * One viewer: a page running the unchanged Swarm and PeerLinks, its tracker
 * client and mesh (as client/relaycast.ts and client/mesh.ts do it), its
 * service worker's origin fallback, and a player.
 */
export class Viewer {
  readonly stats = emptyStats();
  readonly host: Host;
  readonly swarm: Swarm;
  readonly player: Player;
  /** Hop count of the copy held of each segment (by seq): 0 = from the origin. */
  readonly hops = new Map<number, number>();
  private readonly store: SegmentStore;
  private readonly budget: UploadBudget;
  private readonly dialing = new Set<string>();
  private readonly banned = new Set<string>();
  private readonly linkState = { lastEvictionMs: -Infinity };
  private uploadMark: { bytes: number; atMs: number } | undefined;
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
    // Byte caps are in real bytes: scale the page's virtual caps down.
    this.store = new SegmentStore({
      maxBytes: Math.floor(DEFAULT_CONFIG.maxStoreBytes / 4 / this.scale),
      keepSegments: DEFAULT_CONFIG.keepSegments,
    });
    this.budget = new UploadBudget(w.budgetBytesPerSec / this.scale, () => clock.now(), (ms) => w.sched.sleep(ms));
    this.swarm = new Swarm(
      SWARM_ID,
      w.client,
      this.store,
      {
        selfId: () => (this.present ? spec.id : undefined),
        originFetch: (url) => this.originFetchForSwarm(url),
        stats: this.stats,
        uploadsInFlight: () => this.uploadsInFlight(),
        uploadAllowed: () => spec.uploads,
        throttle: (n) => this.throttle(n),
        // Rates are measured in real bytes, like the byte caps above.
        slowFloorBytesPerSec: MIN_SLOW_THRESHOLD_BYTES_PER_SEC / this.scale,
        refreshManifest: () => this.refreshManifest(),
        // Integrity is tested elsewhere; here every copy is genuine.
        verify: () => Promise.resolve('ok'),
        onBadPeer: (peerId, reason) => this.ban(peerId, reason),
      },
      clock,
    );
    this.player = new Player(w.player, {
      now: () => clock.now(),
      after: (ms, fn) => void w.sched.after(ms, fn),
      load: (seq, deadlineMs) => this.load(seq, deadlineMs),
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

  readyLinks(): number {
    let n = 0;
    for (const l of this.swarm.links.values()) if (l.isReady) n++;
    return n;
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
    // Baseline: no relaycast on the page (no tracker, no mesh, the worker passes everything to the origin).
    if (this.w.p2p) this.announce();
  }

  leave(): void {
    if (!this.present) return;
    this.present = false;
    this.leftAtMs = this.w.sched.now();
    this.w.viewers.delete(this.id);
    this.swarm.destroy();
  }

  // ---- the page's tracker client and mesh (client/tracker-client.ts, client/relaycast.ts onPeers, client/mesh.ts) ----

  private announce(): void {
    if (!this.present) return;
    const free = freeLinks({ maxPeers: this.w.maxPeers, links: this.swarm.links.size, dialing: this.dialing.size });
    // As client/relaycast.ts trackerReport: the upload rate since the previous announce (virtual bytes).
    const now = this.w.sched.now();
    const bytes = this.stats.uploadedBytes * this.scale;
    const last = this.uploadMark;
    this.uploadMark = { bytes, atMs: now };
    const rate = last !== undefined && now > last.atMs ? { uploadBytesPerSec: Math.round(((bytes - last.bytes) * 1000) / (now - last.atMs)) } : {};
    const { answer } = this.w.tracker.announce({ type: 'announce', swarm: SWARM_ID, peerId: this.id, uploads: this.spec.uploads, freeLinks: free, ...rate });
    const rtt = 2 * this.w.origin.cfg.originLatencyMs;
    this.w.sched.after(rtt, () => this.onPeers(answer));
    this.w.sched.after(answer.announceIntervalMs, () => this.announce());
  }

  private onPeers(a: TrackerPeers): void {
    if (!this.present) return;
    const swarm = this.swarm;
    if (!a.p2p) {
      for (const l of [...swarm.links.values()]) l.close('p2p switched off');
      return;
    }
    swarm.setSwarmView(a.seeders.filter((s) => !this.banned.has(s)), a.fetchersPerSegment, a.swarmSize);
    this.w.seeders = a.seeders;
    this.w.fetchersPerSegment = a.fetchersPerSegment;
    const dial = peersToDial(a.peers, {
      self: this.id,
      swarmSize: a.swarmSize,
      maxPeers: this.w.maxPeers,
      links: swarm.links.size,
      dialing: this.dialing.size,
      linked: (id) => swarm.links.has(id),
      isDialing: (id) => this.dialing.has(id),
      banned: (id) => this.banned.has(id),
    });
    for (const remote of dial) this.dial(remote);
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

  /** client/relaycast.ts attach(): client/link-policy.ts decides; then a PeerLink over the channel. */
  attach(remoteId: string, ch: SimChannel, outgoing: boolean): void {
    const m = this.w.metrics;
    const now = this.w.sched.now();
    const admit =
      this.present &&
      admitLink({
        self: this.id,
        remote: remoteId,
        outgoing,
        swarmSize: this.swarm.trackerSwarmSize,
        maxPeers: this.w.maxPeers,
        banned: this.banned.has(remoteId),
        nowMs: now,
        links: this.swarm.links,
        state: this.linkState,
      });
    if (!admit) {
      if (m.inWindow(now)) m.refusedLinks++;
      ch.close();
      return;
    }
    const link = new SimLink(remoteId, ch, this.swarm, this.w.sched.clock, (peerId, id) => this.onPeerCopy(peerId, id), this.w.client, outgoing, (reason) => {
      if (m.inWindow(this.w.sched.now())) m.closedLinks.set(reason, (m.closedLinks.get(reason) ?? 0) + 1);
    }, (id, bytes) => this.w.origin.canonical(this.w.origin.seqOf(id), bytes));
    if (m.inWindow(this.w.sched.now())) m.openedLinks++;
    ch.onData = (d) => link.receive(d);
    ch.onClose = () => link.close('closed');
    this.swarm.addLink(link);
    link.start();
  }

  private ban(peerId: string, reason: string): void {
    this.w.violations.set(reason, (this.w.violations.get(reason) ?? 0) + 1);
    if (!this.banned.has(peerId)) {
      this.banned.add(peerId);
      this.stats.bannedPeers++;
    }
    this.swarm.links.get(peerId)?.close(`banned: ${reason}`);
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

  private uploadsInFlight(): number {
    let n = 0;
    for (const l of this.swarm.links.values()) n += l.activeUploads;
    return n;
  }

  private onPeerCopy(peerId: string, id: string): void {
    const seq = this.w.origin.seqOf(id);
    const src = this.w.viewers.get(peerId)?.hops.get(seq);
    this.hops.set(seq, src === undefined ? -1 : src + 1);
    this.noteDelay('peerCopy', seq);
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
      if (this.w.p2p) this.swarm.onPlaylist(p);
      this.player.onPlaylist(newest);
    });
    this.w.sched.after(this.w.origin.cfg.segmentMs, () => this.refreshPlaylist());
  }

  /** The Swarm asks the worker to read the manifest again now (rc-refresh): one playlist fetch, for the page only. */
  private refreshManifest(): void {
    if (this.w.metrics.inWindow(this.w.sched.now())) this.w.metrics.manifestRefreshes++;
    this.fetchPlaylist((p) => {
      if (this.w.p2p) this.swarm.onPlaylist(p);
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

  /** The Swarm asks the worker to fetch a segment it owns (rc-origin-fetch). */
  private async originFetchForSwarm(url: string): Promise<Uint8Array | undefined> {
    const seq = this.w.origin.seqOf(url);
    const bytes = await this.w.origin.fetch(seq, this.spec.downlinkBytesPerSec, 'owner');
    if (bytes) {
      this.hops.set(seq, 0);
      this.noteDelay('ownerCopy', seq);
    }
    return bytes;
  }

  /** The player's segment request through the worker: the page (Swarm.get) within the deadline, else the origin. */
  private async load(seq: number, deadlineMs: number): Promise<void> {
    const o = this.w.origin;
    const m = this.w.metrics;
    const id = o.url(seq);
    const inStore = this.store.has(id);
    this.noteDelay('playerRequest', seq);
    const r: GetResult = this.w.p2p ? await this.swarm.get(id, seq, deadlineMs) : { hit: false, reason: 'p2p off', steps: [] };
    if (!this.present) return;
    const now = this.w.sched.now();
    if (r.hit) {
      if (m.inWindow(now)) {
        if (inStore) m.requestsStore++;
        else m.requestsPeerWait++;
      }
      m.delivered(now, o.cfg.segmentBytes, this.hops.get(seq) ?? -1);
      return;
    }
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
    m.delivered(t, o.cfg.segmentBytes, 0);
    if (!bytes) return;
    this.hops.set(seq, 0);
    this.swarm.onOriginCopy(id, seq, bytes);
  }
}
