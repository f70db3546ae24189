import { MAX_HOP, type FreshSegment, type MissReason, type SegmentInfo } from '../../protocol/peer.js';
import type { PlaylistUpdate } from '../../protocol/worker.js';
import type { ByteRange } from '../../protocol/segment-id.js';
import { putBounded } from '../../protocol/bounded.js';
import { DEFAULT_CONFIG, type RelaycastConfig } from '../config.js';
import { isFullMesh } from '../transport/link-policy.js';
import { KEEPALIVE_MS, SILENT_MS, type LinkHandler, type PeerLink } from '../transport/peer-link.js';
import { owners, ranking } from './rendezvous.js';
import type { RelaycastStats } from '../core/stats.js';
import type { SegmentStore, SegmentSource, StoredSegment } from '../storage/store.js';
import type { Verdict } from '../core/integrity.js';
import { realClock, type Clock } from '../core/clock.js';
import { GrowingCopy, type Sendable } from './growing-copy.js';

export type SwarmConfig = Pick<RelaycastConfig, 'originFetchers' | 'maxUploadsTotal'> &
  Partial<Pick<RelaycastConfig, 'maxHops' | 'ownerMinAgeMs' | 'relayWhileReceiving' | 'maxPeers'>>;

export interface SwarmEnv {
  /** This page's peer id, or undefined before signaling opened. */
  readonly selfId: () => string | undefined;
  /** Fetches a known segment (or byte range) from the origin through the worker (counted there). */
  readonly originFetch: (url: string, range?: ByteRange) => Promise<Uint8Array | undefined>;
  readonly stats: RelaycastStats;
  /** Total uploads in flight across all swarms of this page. */
  readonly uploadsInFlight: () => number;
  /** Bytes queued in all of this page's data channels, not yet sent (its uplink backlog); default: this swarm's links. */
  readonly uploadBacklogBytes?: () => number;
  /** Upload consent right now (config, runtime API, Save-Data). */
  readonly uploadAllowed: () => boolean;
  /** The viewer's upload budget. */
  readonly throttle: (bytes: number) => Promise<void>;
  /** Observes every copy stored, with its hop count (measurement: the simulator's hop histogram). */
  readonly onStored?: (id: string, hop: number) => void;
  /** Every segment kept in the store (VOD: the optional disk cache keeps it too). */
  readonly onKept?: (seg: StoredSegment) => void;
  /**
   * Live: read this swarm's manifest again now (the worker fetches it and sends the playlist):
   * a peer's playlist lists a segment this page is to fetch for the swarm.
   */
  readonly refreshManifest?: () => void;
  /** Checks peer bytes against the origin's published hash. */
  readonly verify: (id: string, bytes: Uint8Array) => Promise<Verdict>;
  /** A peer sent bytes that failed verification: drop it and never use it again. */
  readonly onBadPeer: (peerId: string, reason: string) => void;
  /**
   * The slowest delivery worth keeping when the stream's bitrate would allow less, in bytes/s
   * (default 50,000). The simulator, whose segments carry fewer real bytes than the size it
   * models, scales it down with them.
   */
  readonly slowFloorBytesPerSec?: number;
}

/** `steps`: what the wait went to, in order (`inflight@ms`, `pull:<peer>@ms`, `have?<owners>@ms`), for diagnostics. */
export type GetResult =
  | { readonly hit: true; readonly bytes: Uint8Array; readonly steps: readonly string[] }
  | { readonly hit: false; readonly reason: string; readonly steps: readonly string[] };

interface Known {
  readonly url: string;
  readonly seq: number;
  readonly range?: ByteRange;
}

/** Background pulls of segments the player has not asked for yet. */
const MAX_BACKGROUND_PULLS = 3;
const BACKGROUND_PULL_TIMEOUT_MS = 8000;
const MIN_BACKGROUND_PULL_TIMEOUT_MS = 2000;
/** A peer delivering slower than this multiple of the stream's bitrate cannot relay it in time. */
const SLOW_PEER_BITRATE_MULTIPLE = 2;
export const MIN_SLOW_THRESHOLD_BYTES_PER_SEC = 50_000;
/** A pull is first checked against that rate after this long (a round trip and a few frames), then this often. */
const SLOW_PULL_CHECK_MS = 500;
const SLOW_PULL_RECHECK_MS = 250;

/**
 * A page takes a new upload only while no other upload is still handing frames to its channel
 * and its data channels hold at most this many bytes not yet sent (the channels' low-water
 * mark): its uplink then carries about one copy at a time, at full rate.
 */
const BUSY_BACKLOG_BYTES = 256 * 1024;
/** After a `busy` answer, ask again this much later (a holder sends a segment in a fraction of a second). */
const BUSY_RETRY_MS = 150;
const MAX_BUSY_RETRIES = 20;


/** Beyond one playlist refresh, how long an owner may take to fetch a new segment and announce it. */
const OWNER_GRACE_EXTRA_MS = 1500;

/**
 * A player request that finds a pull of its segment already under way (a background pull)
 * checks this often that the pull will finish before the player's deadline; one that has
 * not delivered its first frame this long after it began is stuck (a holder's backlog or a
 * copy that stopped growing). Either way, another holder is asked instead, if there is one.
 */
const ON_TRACK_CHECK_MS = 250;
const FIRST_FRAME_MS = 1000;

/** Segments whose seeder ranking is remembered: those near the live edge, where owners are asked for (up to 64 ids each). */
const SEEDER_RANKINGS_KEPT = 16;

/** Steps of one request kept for diagnostics (a request rarely takes more than a handful). */
const MAX_TRACE_STEPS = 8;

/** Accept announcements of segments this far past the newest one our playlist listed (they are newer than our last refresh). */
const AHEAD_SEGMENTS = 4;

/**
 * Segments kept in view. Live: the playlist window, also pruned by sequence (64 behind the
 * newest). VOD: the windows the worker sent as the player moved, oldest forgotten first.
 */
const MAX_KNOWN = 256;
/** VOD: a peer that announced one of the previous segments this recently plays right here: its copy is worth waiting for. */
const VOD_NEAR_SEGMENTS = 2;

/**
 * One swarm: the viewers of one rendition of one stream. It decides, for each
 * new segment, whether this page fetches it from the origin for everyone
 * (rendezvous owner) or pulls it from a peer before its player asks; and it
 * answers the player's requests from the store or peers within a deadline.
 */
export class Swarm implements LinkHandler {
  readonly links = new Map<string, PeerLink>();
  private readonly known = new Map<string, Known & { readonly durationSec: number; readonly firstSeenMs: number }>();
  private targetDurationMs = 2000;
  /** A VOD swarm: no live edge; windows follow the player (onVodWindow). */
  private vod = false;
  private newestSeq = -1;
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly inflight = new Map<string, Promise<boolean>>();
  /** Copies arriving from peers, announced and relayed before they are complete (relayWhileReceiving). */
  private readonly growing = new Map<string, GrowingCopy>();
  private backgroundPulls = 0;
  /** Pulls under way, by segment: how far each has come (a player request may drop a late one). */
  private readonly pulls = new Map<string, PullProgress>();
  /** Segments peers told us of (`fresh`) before our own playlist listed them. */
  private readonly heard = new Map<string, number>();
  /** The newest sequence number a `fresh` notice made us read the manifest for. */
  private refreshedSeq = -1;
  /** The tracker's view of the whole swarm (see TrackerPeers.seeders). */
  private seeders: readonly string[] = [];
  /** Per segment, the seeders by rendezvous weight (cleared when the seeders change): owners are asked for several times per segment. */
  private readonly seederRanking = new Map<string, readonly string[]>();
  private fetchersPerSegment = 1;
  private swarmSize = 0;
  /** Stream bitrate estimate from stored segments and their playlist durations. */
  private bitrateBytesPerSec: number | undefined;
  /** Before any segment is stored: the size a peer announced for one, over its playlist duration. */
  private announcedBytesPerSec: number | undefined;

  constructor(
    readonly id: string,
    private readonly cfg: SwarmConfig,
    private readonly store: SegmentStore,
    private readonly env: SwarmEnv,
    private readonly clock: Clock = realClock,
  ) {
    this.keepaliveTimer = this.clock.setTimeout(() => this.keepalive(), KEEPALIVE_MS);
    this.joinedAtMs = this.clock.now();
  }

  private readonly joinedAtMs: number;

  private keepaliveTimer: unknown;
  private destroyed = false;

  /** One timer per swarm (not per link) drives every link's keepalive and dead-peer check. */
  private keepalive(): void {
    if (this.destroyed) return;
    for (const l of [...this.links.values()]) l.keepalive();
    this.keepaliveTimer = this.clock.setTimeout(() => this.keepalive(), KEEPALIVE_MS / 2);
  }

  // ---- from the worker ----

  onPlaylist(p: PlaylistUpdate): void {
    this.targetDurationMs = Math.max(500, p.targetDurationSec * 1000);
    const now = this.clock.now();
    for (const s of p.segments) {
      const firstSeenMs = this.known.get(s.id)?.firstSeenMs ?? now;
      putBounded(this.known, s.id, { url: s.url, seq: s.seq, durationSec: s.durationSec, firstSeenMs, ...(s.range ? { range: s.range } : {}) }, MAX_KNOWN);
    }
    if (!p.live) return this.onVodWindow(p);
    const first = this.newestSeq < 0;
    const fresh = p.segments.filter((s) => s.seq > this.newestSeq);
    for (const [id, k] of this.known) if (k.seq < this.newestSeq - 64) this.known.delete(id);
    if (fresh.length === 0) return;
    this.newestSeq = Math.max(this.newestSeq, ...fresh.map((s) => s.seq));
    this.store.advance(this.newestSeq);
    const floor = this.store.floorSeq;
    for (const l of this.links.values()) l.forgetHaveBelow(floor);
    // On joining, only the live edge is worth preparing; the player fetches its startup segments itself.
    for (const s of first ? fresh.slice(-1) : fresh) this.prepare(s.id, s.url, s.seq, s.range);
    if (!first) this.tellFresh(fresh);
  }

  /**
   * Tell peers about new segments nobody told us of: this page saw them first, and their
   * origin fetcher (a peer, most likely) then reads its manifest at once instead of at its own
   * playlist refresh, up to a segment duration later.
   */
  private tellFresh(fresh: readonly { readonly id: string; readonly seq: number }[]): void {
    const news: FreshSegment[] = [];
    for (const s of fresh) {
      if (this.heard.has(s.id)) continue;
      let announced = false;
      for (const l of this.links.values()) if (l.remoteHas.has(s.id)) announced = true;
      if (!announced) news.push({ id: s.id, seq: s.seq });
    }
    if (news.length === 0) return;
    for (const l of this.links.values()) if (l.isReady) l.tellFresh(news);
  }

  /**
   * A peer's playlist lists segments ours does not yet. If this page fetches the next one for
   * the swarm, it reads its manifest now. Only the next sequence numbers count, once each, so a
   * lying peer costs at most a manifest read or two per segment.
   */
  onFresh(_link: PeerLink, segments: readonly FreshSegment[]): void {
    for (const s of segments) {
      if (this.known.has(s.id) || this.store.has(s.id) || this.inflight.has(s.id)) continue;
      putBounded(this.heard, s.id, s.seq, MAX_KNOWN);
      if (this.vod || this.newestSeq < 0 || s.seq <= this.newestSeq || s.seq > this.newestSeq + 2 || s.seq <= this.refreshedSeq) continue;
      const self = this.env.selfId();
      if (self === undefined || !this.originFetchersFor(s.id).includes(self)) continue;
      this.refreshedSeq = s.seq;
      this.env.refreshManifest?.();
    }
  }

  /**
   * VOD: the worker sends the segment the player just asked for and the next few. Peers
   * playing the same part of the video share them as in a live swarm (owners fetch, the
   * rest pull); a viewer alone there gets them from the store of whoever watched earlier,
   * or from the origin.
   */
  private onVodWindow(p: PlaylistUpdate): void {
    this.vod = true;
    for (const s of p.segments.slice(1)) this.prepare(s.id, s.url, s.seq, s.range);
  }

  /** The worker fetched this segment from the origin for the player: keep it for peers. */
  onOriginCopy(id: string, seq: number, bytes: Uint8Array): void {
    this.env.stats.originBytes += bytes.byteLength;
    this.env.stats.deliveredOriginBytes += bytes.byteLength;
    this.keep(id, seq, bytes, 'origin', 0);
  }

  /** A segment kept from an earlier visit (VOD disk cache): stored and announced like any other. */
  restore(seg: StoredSegment): void {
    if (!this.store.has(seg.id)) this.keep(seg.id, seg.seq, seg.bytes, seg.source, seg.hop);
  }

  /** A complete copy of `id` is in the store. */
  hasStored(id: string): boolean {
    return this.store.has(id);
  }

  /** The player asked for `id`. Answer from the store or a peer within `deadlineMs`, or miss. */
  async get(id: string, seq: number, deadlineMs: number): Promise<GetResult> {
    const start = this.clock.now();
    const end = start + deadlineMs;
    const left = (): number => end - this.clock.now();
    // What the wait was spent on, for diagnostics: step@ms since the request.
    const steps: string[] = [];
    const step = (what: string): void => {
      if (steps.length < MAX_TRACE_STEPS) steps.push(`${what}@${Math.round(this.clock.now() - start)}`);
    };
    // Holders whose pull this request dropped as too late: not asked again by it.
    const dropped = new Set<PeerLink>();
    let waitingOn: unknown;
    for (;;) {
      const local = this.store.get(id);
      if (local) return this.deliver(local.bytes, local.source, steps);
      const running = this.inflight.get(id);
      if (running) {
        if (left() <= 0) return this.miss('no time', steps);
        const p = this.pulls.get(id);
        if (waitingOn !== running) step(p ? `inflight:${p.link.peerId.slice(0, 4)}` : 'inflight');
        waitingOn = running;
        if (!p) {
          await raceTimeout(this.clock, running, left());
          continue;
        }
        await raceTimeout(this.clock, running, Math.min(left(), ON_TRACK_CHECK_MS));
        if (this.store.has(id) || this.pulls.get(id) !== p || left() <= 0 || this.onTrack(p, end)) continue;
        // Late: ask another holder now rather than wait for this one and miss.
        if (!this.pickHolder(id, new Set([...dropped, p.link]))) continue;
        step(`drop:${p.link.peerId.slice(0, 4)}`);
        dropped.add(p.link);
        p.abort.abort();
        await running;
        continue;
      }
      if (left() <= 0) return this.miss('no time', steps);
      const holder = this.pickHolder(id, dropped);
      if (holder) {
        step(`pull:${holder.peerId.slice(0, 4)}`);
        await this.pull(holder, id, seq, this.attemptTimeoutMs(holder, id, left()));
        if (this.store.has(id)) continue;
        // A busy holder still has it: try others, and it again after a pause; any other failure forgets it.
        if (holder.recentlyBusy) await this.pause(Math.min(left(), BUSY_RETRY_MS));
        else holder.remoteHas.delete(id);
        continue;
      }
      // Nobody has it yet. Wait for its owner to fetch and announce it, if the owner is a peer.
      const self = this.env.selfId();
      const own = this.originFetchersFor(id);
      if (self === undefined || own.includes(self) || own.length === 0) return this.miss('owner is self', steps);
      // In a full mesh the owner is a direct peer: it sees a new segment within one playlist
      // refresh of us and fetches it at once. Past that grace it is gone or stuck: do not spend
      // the player's buffer on it. In a larger swarm the copy comes over several hops: wait for
      // any peer's `have` until the deadline.
      // VOD: an owner elsewhere in the video never fetches this one; wait only for a peer playing right here.
      if (this.vod && !this.peerNear(seq)) return this.miss('no peer near', steps);
      const seen = this.known.get(id)?.firstSeenMs;
      const grace =
        seen === undefined || this.usesSeeders() ? left() : seen + this.targetDurationMs + OWNER_GRACE_EXTRA_MS - this.clock.now();
      step(`have?${own.map((o) => o.slice(0, 4)).join('+')}`);
      const announced = await this.waitForHave(id, Math.min(left(), grace));
      if (!announced) return this.miss('not announced in time', steps);
    }
  }

  // ---- peer links ----

  addLink(link: PeerLink): void {
    this.links.get(link.peerId)?.close('replaced');
    this.links.set(link.peerId, link);
  }

  onReady(link: PeerLink): void {
    const have = this.store.list().map((s) => ({ id: s.id, seq: s.seq, bytes: s.bytes.byteLength, hop: s.hop }));
    // A page that does not upload announces nothing: every request would be a wasted round trip.
    if (have.length > 0 && this.env.uploadAllowed()) link.announce(have);
  }

  onHave(link: PeerLink, segments: readonly SegmentInfo[]): void {
    for (const s of segments) {
      const dur = this.known.get(s.id)?.durationSec;
      if (this.announcedBytesPerSec === undefined && dur !== undefined && dur > 0) this.announcedBytesPerSec = s.bytes / dur;
      const w = this.waiters.get(s.id);
      if (w) for (const wake of w) wake();
      if (this.wanted(s)) void this.backgroundPull(link, s);
    }
  }

  serve(_link: PeerLink, id: string): Uint8Array | Sendable | MissReason {
    if (!this.env.uploadAllowed()) return 'no-upload';
    if (this.env.uploadsInFlight() >= this.cfg.maxUploadsTotal) return 'busy';
    // One copy at a time at the full uplink rate: sharing the uplink among a dozen copies makes all
    // of them arrive late. Other requesters turn to other holders, which multiply meanwhile.
    if (this.env.uploadsInFlight() > 0 || this.uploadBacklog() > BUSY_BACKLOG_BYTES) return 'busy';
    const stored = this.store.get(id);
    if (stored) return stored.bytes;
    const growing = this.growing.get(id);
    return growing && !growing.failed ? growing : 'not-found';
  }

  private uploadBacklog(): number {
    if (this.env.uploadBacklogBytes) return this.env.uploadBacklogBytes();
    let n = 0;
    for (const l of this.links.values()) n += l.queuedBytes;
    return n;
  }

  onUploaded(_link: PeerLink, bytes: number): void {
    this.env.stats.uploadedBytes += bytes;
  }

  throttle(bytes: number): Promise<void> {
    return this.env.throttle(bytes);
  }

  onClose(link: PeerLink, reason: string): void {
    if (this.links.get(link.peerId) === link) this.links.delete(link.peerId);
    // A peer that broke the protocol is not taken back when the tracker lists it again.
    if (reason.startsWith('protocol:')) this.env.onBadPeer(link.peerId, reason);
  }

  /**
   * Ready links' peer ids plus our own: the set rendezvous hashing runs over.
   * Peers measured too slow to relay the stream, or failing, are left out, so
   * they are not waited for as origin fetchers.
   */
  members(): string[] {
    const ids = [...this.links.values()].filter((l) => l.isReady && !this.isSlow(l)).map((l) => l.peerId);
    const self = this.env.selfId();
    return self === undefined ? ids : [self, ...ids];
  }

  /** The tracker's answer: origin fetchers of the whole swarm and its size. Banned peers are already removed. */
  setSwarmView(seeders: readonly string[], fetchersPerSegment: number, swarmSize: number): void {
    if (seeders.length !== this.seeders.length || seeders.some((s, i) => s !== this.seeders[i])) this.seederRanking.clear();
    this.seeders = seeders;
    this.fetchersPerSegment = Math.max(1, fetchersPerSegment);
    this.swarmSize = swarmSize;
  }

  /** Viewers in the swarm as the tracker last said (0 before its first answer). */
  get trackerSwarmSize(): number {
    return this.swarmSize;
  }

  /**
   * The swarm is larger than one page's links (client/link-policy.ts isFullMesh): the tracker's
   * seeders fetch from the origin. Decided by the swarm's size alone, never by the links that
   * happen to be ready: at 10 viewers, pages whose links were still opening (or looked slow
   * while their CPU was busy with a join) switched to the seeders while the others kept the
   * mesh's owner, so each side waited for the other and nobody fetched (every player then
   * waited its whole buffer for segments 33 and 35 of a measured run).
   */
  private usesSeeders(): boolean {
    return this.seeders.length > 0 && !isFullMesh(this.swarmSize, this.cfg.maxPeers ?? DEFAULT_CONFIG.maxPeers);
  }

  /**
   * Who fetches segment `id` from the origin for everyone. When this page sees the whole
   * swarm (a full mesh), rendezvous hashing over its ready, fast links and itself: every page
   * computes the same owner. In a larger swarm, over the tracker's seeders, which every page
   * gets in the same order, so the owner is still agreed on; the segment then spreads peer to
   * peer. Seeders this page measured slow or failing are left out.
   */
  originFetchersFor(id: string): string[] {
    const self = this.env.selfId();
    if (this.usesSeeders()) {
      let ranked = this.seederRanking.get(id);
      if (!ranked) putBounded(this.seederRanking, id, (ranked = ranking(this.seeders, id)), SEEDER_RANKINGS_KEPT);
      const out: string[] = [];
      for (const s of ranked) {
        const l = s === self ? undefined : this.links.get(s);
        if (!l || !this.isSlow(l)) out.push(s);
        if (out.length >= this.fetchersPerSegment) break;
      }
      if (out.length > 0) return out;
    }
    // A page that just joined is busy starting its player: it fetches for nobody yet, and nobody waits for it.
    const members = this.members();
    const now = this.clock.now();
    const minAge = this.cfg.ownerMinAgeMs ?? 0;
    const settled = members.filter((m) =>
      m === self ? now - this.joinedAtMs >= minAge : now - (this.links.get(m)?.openedAtMs ?? now) >= minAge,
    );
    return owners(settled, id, this.cfg.originFetchers);
  }

  destroy(): void {
    this.destroyed = true;
    this.clock.clearTimeout(this.keepaliveTimer);
    for (const l of [...this.links.values()]) l.close('destroyed');
    this.links.clear();
    for (const w of this.waiters.values()) for (const wake of w) wake();
    this.waiters.clear();
  }

  // ---- internals ----

  /** A new segment appeared in the playlist: fetch it for the swarm if we own it, else pull it if someone has it. */
  private prepare(id: string, url: string, seq: number, range?: ByteRange): void {
    if (this.store.has(id) || this.inflight.has(id)) return;
    const self = this.env.selfId();
    if (self !== undefined && this.originFetchersFor(id).includes(self)) {
      const job = this.env.originFetch(url, range).then((bytes) => {
        if (!bytes) return false;
        this.env.stats.originBytes += bytes.byteLength;
        this.keep(id, seq, bytes, 'origin', 0);
        return true;
      });
      this.track(id, job);
      return;
    }
    const holder = this.pickHolder(id);
    if (holder) void this.backgroundPull(holder, { id, seq, bytes: 1 });
  }

  /** VOD: a ready peer announced one of the segments just before `seq`, so it plays here and will have `seq` soon. */
  private peerNear(seq: number): boolean {
    for (const l of this.links.values()) {
      if (!l.isReady) continue;
      for (const h of l.remoteHas.values()) if (h.seq < seq && h.seq >= seq - VOD_NEAR_SEGMENTS) return true;
    }
    return false;
  }

  private wanted(s: SegmentInfo): boolean {
    if (this.store.has(s.id) || this.inflight.has(s.id)) return false;
    if (this.vod) return this.known.has(s.id);
    if (this.newestSeq < 0) return false;
    return s.seq >= this.newestSeq - 1 && s.seq <= this.newestSeq + AHEAD_SEGMENTS;
  }

  private async backgroundPull(link: PeerLink, s: SegmentInfo, attempt = 0): Promise<void> {
    if (this.backgroundPulls >= MAX_BACKGROUND_PULLS) return;
    this.backgroundPulls++;
    try {
      await this.pull(link, s.id, s.seq, this.backgroundTimeoutMs(link, s.id));
    } finally {
      this.backgroundPulls--;
    }
    // Every holder that was asked is busy sending a copy: ask again shortly (holders multiply meanwhile).
    // One found too slow: ask another at once.
    const busy = link.recentlyBusy;
    if ((busy || this.isSlow(link)) && attempt < MAX_BUSY_RETRIES && !this.destroyed) {
      this.clock.setTimeout(() => {
        const next = this.wanted(s) ? this.pickHolder(s.id) : undefined;
        if (next && (busy || next !== link)) void this.backgroundPull(next, s, attempt + 1);
      }, busy ? BUSY_RETRY_MS : 0);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, Math.max(0, ms)));
  }

  private pull(link: PeerLink, id: string, seq: number, timeoutMs: number): Promise<boolean> {
    const running = this.inflight.get(id);
    if (running) return running;
    const announced = link.remoteHas.get(id);
    const hop = Math.min(MAX_HOP, (announced?.hop ?? MAX_HOP - 1) + 1);
    let growing: GrowingCopy | undefined;
    const relay = this.cfg.relayWhileReceiving !== false;
    const abort = new AbortController();
    const progress: PullProgress = { link, abort, startedMs: this.clock.now(), firstMs: undefined, firstBytes: 0, received: 0, total: announced?.bytes };
    this.pulls.set(id, progress);
    const watch = this.watchRate(progress, this.slowRate());
    const onProgress = (bytes: Uint8Array, n: number): void => {
      if (progress.firstMs === undefined) [progress.firstMs, progress.firstBytes] = [this.clock.now(), n];
      progress.received = n;
      progress.total = bytes.byteLength;
      watch.progress();
      if (!relay) return;
      if (!growing) growing = this.startRelay(id, seq, bytes, hop);
      growing?.progress(n);
    };
    const job = link.pull(id, timeoutMs, announced?.bytes, abort.signal, onProgress).then(async (r) => {
      watch.stop();
      if (!r.ok) return false;
      this.env.stats.peerBytes += r.bytes.byteLength;
      // Nothing from a peer is stored (so served to the player or others) before it matches the origin's hash.
      const verdict = await this.env.verify(id, r.bytes);
      if (verdict === 'mismatch') {
        this.env.stats.rejectedSegments++;
        this.env.onBadPeer(link.peerId, 'bytes do not match the published hash');
        return false;
      }
      if (verdict === 'unknown') {
        this.env.stats.unverifiedSegments++;
        return false;
      }
      this.keep(id, seq, r.bytes, 'peer', hop, growing);
      return true;
    });
    this.track(id, job);
    // Whatever happened, a relay of this pull is over: complete (kept above) or failed.
    void job.then((ok) => {
      if (this.pulls.get(id) === progress) this.pulls.delete(id);
      if (!growing) return;
      if (!ok) growing.fail();
      if (this.growing.get(id) === growing) this.growing.delete(id);
    });
    return job;
  }

  /**
   * A pull whose frames come slower than `minRate` (bytes/s), measured from its first frame over
   * SLOW_PULL_CHECK_MS, is aborted: it would hold the copy (and everyone relaying from us) back
   * while other holders multiply. The link then knows the peer's rate (PeerLink.measure) and
   * pickHolder avoids it. It reads the same progress as onTrack. The wait for the first frame is
   * the attempt timeout's and onTrack's business (a small segment is one frame; a busy page
   * answers late, not slowly).
   */
  private watchRate(p: PullProgress, minRate: number): { progress(): void; stop(): void } {
    let timer: unknown;
    let started = false;
    let stopped = false;
    const check = (): void => {
      if (stopped || p.firstMs === undefined) return;
      const sec = (this.clock.now() - p.firstMs) / 1000;
      if (p.received - p.firstBytes < minRate * sec) return p.abort.abort();
      timer = this.clock.setTimeout(check, SLOW_PULL_RECHECK_MS);
    };
    return {
      /** After `p` took a frame: the first one starts the checks. */
      progress: () => {
        if (started || stopped) return;
        started = true;
        timer = this.clock.setTimeout(check, SLOW_PULL_CHECK_MS);
      },
      stop: () => {
        stopped = true;
        this.clock.clearTimeout(timer);
      },
    };
  }

  /** The slowest delivery worth keeping, in bytes/s: what relaying this stream needs. */
  private slowRate(): number {
    const perSec = this.bitrateBytesPerSec ?? this.announcedBytesPerSec ?? 0;
    return Math.max(this.env.slowFloorBytesPerSec ?? MIN_SLOW_THRESHOLD_BYTES_PER_SEC, SLOW_PEER_BITRATE_MULTIPLE * perSec);
  }

  /**
   * The first bytes of a pulled copy arrived: peers may ask for it now, and get its frames as
   * they come (its last byte only once verified). Not announced by a page that does not upload,
   * nor past the hop bound (nobody would relay it further).
   */
  private startRelay(id: string, seq: number, bytes: Uint8Array, hop: number): GrowingCopy | undefined {
    if (!this.env.uploadAllowed() || hop >= (this.cfg.maxHops ?? MAX_HOP) || this.store.has(id)) return undefined;
    const growing = new GrowingCopy(bytes, hop);
    this.growing.set(id, growing);
    const have = [{ id, seq, bytes: bytes.byteLength, hop, partial: true as const }];
    for (const l of this.links.values()) {
      if (l.isReady && !l.remoteHas.has(id)) {
        l.announce(have);
        growing.toldPeers.add(l.peerId);
      }
    }
    return growing;
  }

  private track(id: string, job: Promise<boolean>): void {
    const guarded = job.catch(() => false);
    this.inflight.set(id, guarded);
    void guarded.then(() => {
      if (this.inflight.get(id) === guarded) this.inflight.delete(id);
    });
  }

  /** Store and tell every peer (but those already told it was arriving: `relayed`). */
  private keep(id: string, seq: number, bytes: Uint8Array, source: SegmentSource, hop: number, relayed?: GrowingCopy): void {
    if (!this.store.put({ id, seq, bytes, source, hop })) return relayed?.fail();
    relayed?.complete();
    this.env.onStored?.(id, hop);
    this.env.onKept?.({ id, seq, bytes, source, hop });
    const dur = this.known.get(id)?.durationSec;
    if (dur !== undefined && dur > 0) {
      const r = bytes.byteLength / dur;
      this.bitrateBytesPerSec = this.bitrateBytesPerSec === undefined ? r : 0.8 * this.bitrateBytesPerSec + 0.2 * r;
    }
    const have = [{ id, seq, bytes: bytes.byteLength, hop }];
    // Not to peers that announced it themselves: they hold it already (a third of all messages in a large swarm).
    if (this.env.uploadAllowed()) {
      for (const l of this.links.values()) if (l.isReady && !l.remoteHas.has(id) && !relayed?.toldPeers.has(l.peerId)) l.announce(have);
    }
    const w = this.waiters.get(id);
    if (w) for (const wake of w) wake();
  }

  private isSlow(l: PeerLink): boolean {
    if (l.failing || l.silentMs > SILENT_MS) return true;
    const rate = l.throughput;
    return rate !== undefined && rate < this.slowRate();
  }

  /**
   * A ready peer that announced `id`: not slow or failing if possible, then least busy, then
   * nearest the origin (every hop adds relay time) and by ping, then fastest.
   */
  private pickHolder(id: string, skip?: ReadonlySet<PeerLink>): PeerLink | undefined {
    const score = (l: PeerLink, h: SegmentInfo): number =>
      (this.isSlow(l) ? 1000 : 0) +
      (l.recentlyBusy ? 100 : 0) +
      l.activePulls * 10 +
      Math.min(9, h.hop ?? 9) +
      // A copy still arriving comes at its sender's pace: a whole one first, other things equal.
      (h.partial ? 1 : 0) +
      Math.min(5, (l.rttMs ?? 100) / 100) -
      Math.min(0.9, (l.throughput ?? 0) / 1e7);
    let best: PeerLink | undefined;
    let bestScore = Infinity;
    const maxHops = this.cfg.maxHops ?? MAX_HOP;
    for (const l of this.links.values()) {
      // Depth is bounded: a copy already maxHops from the origin is not relayed further.
      const h = l.remoteHas.get(id);
      if (!l.isReady || !h || (h.hop ?? 0) >= maxHops || skip?.has(l)) continue;
      const sc = score(l, h);
      if (!best || sc < bestScore || (sc === bestScore && Math.random() < 0.5)) [best, bestScore] = [l, sc];
    }
    return best;
  }

  /**
   * Will pull `p` deliver by `endMs`? Not if no frame came within FIRST_FRAME_MS of its start,
   * nor if its rate since the first frame leaves the rest for after `endMs`.
   */
  private onTrack(p: PullProgress, endMs: number): boolean {
    const now = this.clock.now();
    if (p.firstMs === undefined) return now - p.startedMs < FIRST_FRAME_MS;
    const sec = (now - p.firstMs) / 1000;
    if (sec < ON_TRACK_CHECK_MS / 1000 || p.total === undefined) return true;
    const rate = (p.received - p.firstBytes) / sec;
    return rate > 0 && now + ((p.total - p.received) / rate) * 1000 <= endMs;
  }

  /**
   * A background pull holds one of few slots: bounded by what the peer's measured rate needs
   * (with slack), so a slow or overloaded holder does not keep the slot while faster copies
   * appear elsewhere.
   */
  private backgroundTimeoutMs(link: PeerLink, id: string): number {
    const bytes = link.remoteHas.get(id)?.bytes;
    const rate = link.throughput;
    if (bytes === undefined || rate === undefined || bytes <= 1) return BACKGROUND_PULL_TIMEOUT_MS;
    return Math.min(BACKGROUND_PULL_TIMEOUT_MS, Math.max(MIN_BACKGROUND_PULL_TIMEOUT_MS, 500 + (3 * bytes * 1000) / rate));
  }

  /** One attempt may take what the peer's measured rate needs (with slack), so a slow peer cannot eat the whole deadline. */
  private attemptTimeoutMs(link: PeerLink, id: string, leftMs: number): number {
    const bytes = link.remoteHas.get(id)?.bytes;
    const rate = link.throughput;
    if (bytes === undefined || rate === undefined) return Math.max(0, Math.min(leftMs, Math.max(1000, leftMs / 2)));
    return Math.max(0, Math.min(leftMs, 300 + (2 * bytes * 1000) / rate));
  }

  private waitForHave(id: string, timeoutMs: number): Promise<boolean> {
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let set = this.waiters.get(id);
      if (!set) this.waiters.set(id, (set = new Set()));
      const s = set;
      const done = (v: boolean): void => {
        this.clock.clearTimeout(timer);
        s.delete(wake);
        if (s.size === 0 && this.waiters.get(id) === s) this.waiters.delete(id);
        resolve(v);
      };
      const wake = (): void => done(true);
      const timer = this.clock.setTimeout(() => done(false), timeoutMs);
      s.add(wake);
    });
  }

  private deliver(bytes: Uint8Array, source: SegmentSource, steps: readonly string[]): GetResult {
    if (source === 'peer') this.env.stats.deliveredPeerBytes += bytes.byteLength;
    else this.env.stats.deliveredOriginBytes += bytes.byteLength;
    this.env.stats.peerHits++;
    return { hit: true, bytes, steps };
  }

  private miss(reason: string, steps: readonly string[]): GetResult {
    this.env.stats.peerMisses++;
    return { hit: false, reason, steps };
  }
}

interface PullProgress {
  readonly link: PeerLink;
  readonly abort: AbortController;
  readonly startedMs: number;
  /** When the first frame came, and the bytes it brought. */
  firstMs: number | undefined;
  firstBytes: number;
  received: number;
  /** The segment's size: announced, then as the frames say. */
  total: number | undefined;
}

function raceTimeout<T>(clock: Clock, p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = clock.setTimeout(() => resolve(undefined), Math.max(0, ms));
    p.then(
      (v) => {
        clock.clearTimeout(t);
        resolve(v);
      },
      () => {
        clock.clearTimeout(t);
        resolve(undefined);
      },
    );
  });
}
