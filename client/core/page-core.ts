import { addBounded } from '../../protocol/bounded.js';
import { PIECE_BYTES } from '../../protocol/pieces.js';
import type { ByteRange } from '../../protocol/segment-id.js';
import { MAX_RECEIVED, MAX_UPLOAD_BYTES_PER_SEC, type ReceivedRate, type TrackerAnnounce, type TrackerPeers } from '../../protocol/tracker.js';
import type { PlaylistUpdate } from '../../protocol/worker.js';
import type { RelaycastConfig } from '../config.js';
import { SegmentStore, type StoredSegment } from '../storage/store.js';
import type { Digest } from '../storage/piece-copy.js';
import type { OriginWhy, SegmentFacts } from '../swarm/heading.js';
import { Swarm, type GetResult, type SwarmEnv } from '../swarm/swarm.js';
import { Uploader } from '../swarm/uploader.js';
import { admitLink, freeLinks, peersToDial, pickEviction } from '../transport/link-policy.js';
import type { TreeReport } from '../../protocol/tracker.js';
import { FeedCapacity } from './feed-capacity.js';
import { STRIPES } from '../../protocol/stripes.js';
import { PeerLink, type Channel } from '../transport/peer-link.js';
import type { Clock } from './clock.js';
import { peerDeadlineMs } from './deadline.js';
import { OriginPace } from './origin-pace.js';
import type { Verdict } from './integrity.js';
import { SLOW_REQUEST_MS, SLOW_REQUESTS_KEPT, type RelaycastStats } from './stats.js';

/** Swarms one page joins at once (one per rendition it plays; a player switching renditions joins a few). */
export const MAX_SWARMS = 4;
/** Banned peer ids remembered for the session. */
const MAX_BANNED = 1024;

/**
 * What the orchestration needs from its surroundings. The page (client/page/relaycast.ts) passes
 * PeerJS, the tracker's HTTP endpoint and the service worker; the simulator (sim/viewer.ts)
 * passes its virtual network, its in-process tracker and its origin. Everything between is this
 * module and the swarms, the same code in both.
 */
export interface CorePorts {
  readonly clock: Clock;
  /** This page's peer id, or undefined before signaling opened. */
  readonly selfId: () => string | undefined;
  /** The peer mesh: dial `remoteId` for `swarm` (its connection arrives through `attach`). */
  readonly mesh: {
    connect(remoteId: string, swarm: string): void;
    dialingCount(swarm: string): number;
    isDialing(remoteId: string, swarm: string): boolean;
  };
  /** Start announcing `swarm` to the tracker (answers arrive through `onTrackerAnswer`). */
  readonly joinTracker: (swarm: string) => void;
  /** The service worker: a known segment (or byte range; `part`: only those bytes of it) from the origin; a swarm's manifest read again now. */
  readonly originFetch: (url: string, range?: ByteRange, part?: ByteRange, why?: OriginWhy) => Promise<Uint8Array | undefined>;
  readonly refreshManifest: (swarm: string) => void;
  /** Published hashes: remembered from playlists; whole copies and hash lists from peers checked against them. */
  readonly verifier: {
    remember(id: string, sha256: string | undefined, pieceRoot: string | undefined): void;
    verify(id: string, bytes: Uint8Array): Promise<Verdict>;
    verifyList(id: string, list: Uint8Array): Promise<Verdict>;
    /** A segment's size and hash list as the origin's publisher has them (a stripe head's first step). */
    describe?(id: string): Promise<SegmentFacts | undefined>;
  };
  /** Upload consent right now, and the upload budget (`uploadRate`: its bytes/s now, 0 = no limit). */
  readonly uploadAllowed: () => boolean;
  readonly throttle: (bytes: number) => Promise<void>;
  readonly uploadRate?: () => number;
  /** P2P is usable on this page besides the tracker's word (the worker controls it, not destroyed). */
  readonly usable: () => boolean;
  /** VOD disk cache: kept segments of a VOD swarm, restored when it is joined again. */
  readonly vodDisk?: {
    put(swarm: string, seg: StoredSegment): Promise<void> | void;
    restore(swarm: string, maxBytes: number): Promise<readonly StoredSegment[]>;
  };
  /** The peer link for a new connection (the simulator observes its transfers); default PeerLink. */
  readonly newLink?: (remoteId: string, swarm: Swarm, ch: Channel, outgoing: boolean) => PeerLink;
  /** Observes every copy a swarm stores, with its hop count from the origin. */
  readonly onStored?: (id: string, hop: number, bytes: Uint8Array) => void;
  /** Observes every ban (also of a peer banned before), with its reason. */
  readonly onBan?: (peerId: string, reason: string) => void;
}

/** Per-run scale of the byte sizes and rates a swarm uses (the simulator carries fewer real bytes), and its hash function. */
export type CoreScale = Pick<SwarmEnv, 'pieceBytes'> & { readonly digest?: Digest };

/** Piece requests waiting for an upload slot, all peers: about a second of a fast uplink. */
const MAX_QUEUED_UPLOADS = 32;

/**
 * The page's orchestration: one Swarm per rendition it plays, the links the tracker's answers
 * lead to, what the page reports to the tracker, bans, and the player's requests. Transport,
 * tracker, worker and clock come in as ports, so the simulator runs this same wiring.
 */
export class PageCore {
  readonly stats: RelaycastStats;
  private readonly swarms = new Map<string, Swarm>();
  /** Per swarm: when a link was last evicted for a newcomer (client/transport/link-policy.ts). */
  private readonly linkState = new Map<string, { lastEvictionMs: number }>();
  /** Per swarm: uploaded bytes at the previous announce (the reported upload rate), and what each peer had delivered then. */
  private readonly uploadMarks = new Map<string, { bytes: number; atMs: number; received: Map<string, number> }>();
  private readonly banned = new Set<string>();
  /** Recent origin round trips through the worker: the peer deadline leaves them room. */
  private readonly originPace: OriginPace;
  /** The page's uplink, shared by its swarms. */
  private readonly uploader: Uploader;
  private readonly capacity: FeedCapacity;
  private trackerP2P = true;
  /** The origin publishes no hashes and integrity is required: P2P stays off. */
  private hashesMissing = false;
  private destroyed = false;

  constructor(
    private readonly cfg: RelaycastConfig,
    private readonly ports: CorePorts,
    stats: RelaycastStats,
    private readonly scale: CoreScale = {},
  ) {
    this.stats = stats;
    this.originPace = new OriginPace(cfg.maxPeerWaitMs + cfg.safetyMarginMs);
    this.uploader = new Uploader(
      { slots: cfg.maxUploadsTotal, maxQueued: MAX_QUEUED_UPLOADS },
      { throttle: ports.throttle, onUploaded: (_link, n) => (this.stats.uploadedBytes += n), now: () => ports.clock.now() },
    );
    this.capacity = new FeedCapacity({ measured: () => this.uploader.meter.bytesPerSec, budget: () => ports.uploadRate?.() ?? 0, swarms: () => this.swarms.values() });
  }

  /** P2P is on: config, the operator's tracker, the worker, and not destroyed. */
  get active(): boolean {
    return this.cfg.p2p && this.trackerP2P && !this.destroyed && this.ports.usable();
  }

  /** Usable and the origin publishes what integrity needs. */
  get p2pOn(): boolean {
    return this.active && !this.hashesMissing;
  }

  get swarmCount(): number {
    return this.swarms.size;
  }

  swarm(id: string): Swarm | undefined {
    return this.swarms.get(id);
  }

  /** Ready peer links over every swarm. */
  readyLinks(): number {
    let n = 0;
    for (const s of this.swarms.values()) for (const l of s.links.values()) if (l.isReady) n++;
    return n;
  }

  /** Other viewers this page has a ready link with, each counted once however many swarms they share. */
  readyPeers(): number {
    const ids = new Set<string>();
    for (const s of this.swarms.values()) for (const l of s.links.values()) if (l.isReady) ids.add(l.peerId);
    return ids.size;
  }

  /**
   * The bitrate the page plays, in bytes/s: the largest of its swarms (one rendition plays at a
   * time; an audio rendition beside it is small). 0 before anything is known.
   */
  streamBytesPerSec(): number {
    let r = 0;
    for (const s of this.swarms.values()) r = Math.max(r, s.streamBytesPerSec);
    return r;
  }

  isBanned(peerId: string): boolean {
    return this.banned.has(peerId);
  }

  /** A media playlist passed through the worker. */
  onPlaylist(p: PlaylistUpdate): void {
    if (!p.integrity && this.cfg.integrity === 'required') {
      // No published hashes: peer bytes could not be checked, so peers are not used (docs/security.md).
      this.stats.lastError = 'the origin publishes no segment hashes: P2P off (integrity: "off" accepts unverified peers)';
      this.hashesMissing = true;
      return;
    }
    this.hashesMissing = false;
    for (const s of p.segments) if (s.sha256 !== undefined || s.pieceRoot !== undefined) this.ports.verifier.remember(s.id, s.sha256, s.pieceRoot);
    const swarm = this.swarms.get(p.swarm) ?? this.join(p);
    if (swarm && this.active) swarm.onPlaylist(p);
  }

  /**
   * The player asked the worker for a segment, with `bufferMs` of playback buffered and at most
   * `workerCapMs` to answer: from the store or peers by the deadline (the buffer less a margin
   * that covers the origin fallback as this page measures it, client/core/origin-pace.ts).
   */
  async get(swarmId: string, id: string, seq: number, bufferMs: number, workerCapMs: number): Promise<(GetResult & { readonly deadlineMs: number }) | undefined> {
    const swarm = this.swarms.get(swarmId);
    if (!swarm || !this.active) return undefined;
    const clock = this.ports.clock;
    const t0 = clock.now();
    const margin = { safetyMarginMs: this.originPace.marginMs(this.cfg.safetyMarginMs, t0), maxPeerWaitMs: this.cfg.maxPeerWaitMs };
    const deadlineMs = peerDeadlineMs(bufferMs, margin, workerCapMs);
    const r = await swarm.get(id, seq, deadlineMs);
    const heldMs = clock.now() - t0;
    if (heldMs >= SLOW_REQUEST_MS || (!r.hit && r.steps.length > 0)) {
      const log = this.stats.slowRequests;
      log.push({
        atSec: Math.round(t0) / 1000,
        file: id.slice(id.lastIndexOf('/') + 1, id.lastIndexOf('/') + 1 + 80),
        heldMs: Math.round(heldMs),
        deadlineMs: Math.round(deadlineMs),
        answer: r.hit ? 'hit' : r.reason,
        steps: r.steps,
      });
      if (log.length > SLOW_REQUESTS_KEPT) log.shift();
    }
    return { ...r, deadlineMs };
  }

  /** The worker fetched this segment from the origin for the player (in `fetchMs`, when it said): kept to serve peers. */
  onOriginCopy(swarmId: string, id: string, seq: number, bytes: Uint8Array, fetchMs?: number): void {
    if (fetchMs !== undefined) this.originPace.record(fetchMs, this.ports.clock.now());
    this.swarms.get(swarmId)?.onOriginCopy(id, seq, bytes, fetchMs);
  }

  /** The page's own timers ran `ms` late: its fallback for the player would be that late too. */
  noteLag(ms: number): void {
    this.originPace.record(ms, this.ports.clock.now());
  }

  /** The tracker's answer for one swarm: its view of the swarm, and peers to dial. */
  onTrackerAnswer(a: TrackerPeers): void {
    this.trackerP2P = a.p2p;
    const swarm = this.swarms.get(a.swarm);
    const self = this.ports.selfId();
    if (!swarm || self === undefined) return;
    if (!a.p2p) {
      for (const l of [...swarm.links.values()]) l.close('p2p switched off');
      return;
    }
    swarm.setSwarmView(a.seeders.filter((s) => !this.banned.has(s)), a.fetchersPerSegment, a.swarmSize);
    const mesh = this.ports.mesh;
    const dial = peersToDial(a.peers, {
      self,
      swarmSize: a.swarmSize,
      maxPeers: this.cfg.maxPeers,
      links: swarm.links.size,
      dialing: mesh.dialingCount(a.swarm),
      linked: (id) => swarm.links.has(id),
      isDialing: (id) => mesh.isDialing(id, a.swarm),
      banned: (id) => this.banned.has(id),
    });
    for (const remote of dial) mesh.connect(remote, a.swarm);
    if (a.parents) this.dialParents(swarm, a.parents, self);
  }

  /**
   * The tracker's parent candidates for the stripes this page has no parent of: one dialed per
   * such stripe, making room by closing an idle link outside the trees when the page is full.
   */
  private dialParents(swarm: Swarm, parents: readonly (readonly string[])[], self: string): void {
    const mesh = this.ports.mesh;
    const orphans = swarm.trees.feeds.orphans();
    for (let s = 0; s < STRIPES; s++) {
      if ((orphans & (1 << s)) === 0) continue;
      const id = parents[s]?.find((p) => p !== self && !swarm.links.has(p) && !this.banned.has(p) && !mesh.isDialing(p, swarm.id));
      if (id === undefined) continue;
      if (swarm.links.size + mesh.dialingCount(swarm.id) >= this.cfg.maxPeers) {
        const victim = pickEviction(swarm.links.values(), this.ports.clock.now(), Math.random, (p) => swarm.inTree(p));
        if (victim === undefined) return;
        swarm.links.get(victim)?.close('evicted');
      }
      mesh.connect(id, swarm.id);
    }
  }

  /** Where a swarm's page can feed others in the stripe trees, how many more child stripes its uplink takes (all swarms), and which stripes it lacks a parent of. */
  private treeReport(swarm: Swarm): TreeReport | undefined {
    if (!swarm.trees.enabled) return undefined;
    return { depth: swarm.trees.depths(), room: this.capacity.room(swarm.trees.stripeBytesPerSec), need: swarm.trees.feeds.orphans() };
  }

  /**
   * What an announce reports besides the swarm and id: link slots free in the swarm
   * (client/transport/link-policy.ts), and the upload rate since the previous announce of it.
   */
  trackerReport(swarmId: string): Pick<TrackerAnnounce, 'freeLinks' | 'uploadBytesPerSec' | 'received' | 'tree'> {
    const swarm = this.swarms.get(swarmId);
    if (!swarm) return {};
    const now = this.ports.clock.now();
    const last = this.uploadMarks.get(swarmId);
    const bytes = this.stats.uploadedBytes;
    const delivered = new Map<string, number>();
    for (const l of swarm.links.values()) delivered.set(l.peerId, l.receivedBytes);
    this.uploadMarks.set(swarmId, { bytes, atMs: now, received: delivered });
    const sec = last !== undefined && now > last.atMs ? (now - last.atMs) / 1000 : undefined;
    const rate = sec === undefined ? undefined : Math.round((bytes - last!.bytes) / sec);
    // What the peers that delivered most to this page gave it: the tracker credits their upload claims with it.
    const received: ReceivedRate[] = [];
    if (sec !== undefined) {
      for (const [peer, n] of delivered) {
        const r = Math.round((n - (last!.received.get(peer) ?? 0)) / sec);
        if (r > 0) received.push({ peer, bytesPerSec: Math.min(MAX_UPLOAD_BYTES_PER_SEC, r) });
      }
      received.sort((a, b) => b.bytesPerSec - a.bytesPerSec);
      received.length = Math.min(received.length, MAX_RECEIVED);
    }
    const tree = this.treeReport(swarm);
    return {
      ...(tree ? { tree } : {}),
      freeLinks: freeLinks({ maxPeers: this.cfg.maxPeers, links: swarm.links.size, dialing: this.ports.mesh.dialingCount(swarmId) }),
      ...(rate === undefined ? {} : { uploadBytesPerSec: Math.min(MAX_UPLOAD_BYTES_PER_SEC, Math.max(0, rate)) }),
      ...(received.length > 0 ? { received } : {}),
    };
  }

  /** A connection for `swarmId` opened: the link for it, or undefined to refuse it (the caller closes the channel). */
  attach(remoteId: string, swarmId: string, ch: Channel, outgoing: boolean): PeerLink | undefined {
    const swarm = this.swarms.get(swarmId);
    const self = this.ports.selfId();
    if (!swarm || !this.active || self === undefined) return undefined;
    let state = this.linkState.get(swarmId);
    if (!state) this.linkState.set(swarmId, (state = { lastEvictionMs: -Infinity }));
    const admit = admitLink({
      self,
      remote: remoteId,
      outgoing,
      swarmSize: swarm.trackerSwarmSize,
      maxPeers: this.cfg.maxPeers,
      banned: this.banned.has(remoteId),
      nowMs: this.ports.clock.now(),
      links: swarm.links,
      state,
      keep: (p) => swarm.inTree(p),
    });
    if (!admit) return undefined;
    const link = this.ports.newLink?.(remoteId, swarm, ch, outgoing) ?? new PeerLink(remoteId, swarmId, ch, swarm, this.linkConfig(), this.ports.clock, outgoing);
    swarm.addLink(link);
    return link;
  }

  /** An owner's fetch for the swarm, timed: it is the same path the player's fallback takes. */
  private async timedOriginFetch(url: string, range?: ByteRange, part?: ByteRange, why?: OriginWhy): Promise<Uint8Array | undefined> {
    const t0 = this.ports.clock.now();
    const bytes = await this.ports.originFetch(url, range, part, why);
    // A whole segment's round trip is what a fallback costs; a few pieces' is not.
    if (bytes && !part) this.originPace.record(this.ports.clock.now() - t0, this.ports.clock.now());
    return bytes;
  }

  /** Disconnect a peer from every swarm and never connect to it again this session. */
  ban(peerId: string, reason: string): void {
    this.ports.onBan?.(peerId, reason);
    if (!this.banned.has(peerId)) {
      addBounded(this.banned, peerId, MAX_BANNED);
      this.stats.bannedPeers++;
      this.stats.lastBanReason = reason;
    }
    for (const s of this.swarms.values()) s.links.get(peerId)?.close(`banned: ${reason}`);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.uploader.destroy();
    for (const s of this.swarms.values()) s.destroy();
    this.swarms.clear();
  }

  /** What a peer link needs to know of this page's protocol settings. */
  linkConfig(): { readonly pieceBytes: number; readonly maxPendingPieces: number } {
    return { pieceBytes: this.scale.pieceBytes ?? PIECE_BYTES, maxPendingPieces: this.cfg.maxUploadsPerPeer };
  }

  private join(p: PlaylistUpdate): Swarm | undefined {
    if (this.swarms.size >= MAX_SWARMS) return undefined;
    // Live: the window near the edge. VOD: recently played segments, up to the byte cap, for later viewers.
    const keepSegments = p.live ? this.cfg.keepSegments : Number.MAX_SAFE_INTEGER;
    const maxBytes = Math.floor(this.cfg.maxStoreBytes / MAX_SWARMS);
    const store = new SegmentStore({ maxBytes, keepSegments });
    const disk = p.live ? undefined : this.ports.vodDisk;
    const ports = this.ports;
    const off = this.cfg.integrity === 'off';
    const env: SwarmEnv = {
      selfId: ports.selfId,
      originFetch: (url, range, part, why) => (this.active ? this.timedOriginFetch(url, range, part, why) : Promise.resolve(undefined)),
      stats: this.stats,
      uploader: this.uploader,
      verify: (id, bytes) => (off ? Promise.resolve('ok') : ports.verifier.verify(id, bytes)),
      verifyList: (id, list) => (off ? Promise.resolve('ok') : ports.verifier.verifyList(id, list)),
      onBadPeer: (peerId, reason) => this.ban(peerId, reason),
      uploadAllowed: ports.uploadAllowed,
      feedFits: (bytesPerSec) => this.capacity.fits(bytesPerSec),
      ...(ports.verifier.describe && !off ? { describe: (id: string) => ports.verifier.describe!(id) } : {}),
      refreshManifest: () => ports.refreshManifest(p.swarm),
      ...(ports.onStored ? { onStored: ports.onStored } : {}),
      ...(disk ? { onKept: (seg: StoredSegment) => void disk.put(p.swarm, seg) } : {}),
      ...this.scale,
    };
    const swarm = new Swarm(p.swarm, this.cfg, store, env, ports.clock);
    if (disk) void disk.restore(p.swarm, maxBytes).then((segs) => segs.forEach((seg) => void swarm.restore(seg)));
    this.swarms.set(p.swarm, swarm);
    ports.joinTracker(p.swarm);
    return swarm;
  }

}
