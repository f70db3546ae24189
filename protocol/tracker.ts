import { isRecord, isSafeId, readArray, readBool, readInt } from './guards.js';
import { LIMITS } from './limits.js';
import { err, ok, type Result } from './result.js';
import { ALL_STRIPES, MAX_FEED_DEPTH, STRIPES } from './stripes.js';

/** Page -> tracker: "I am in this swarm; who else is?" Sent periodically; it doubles as a keep-alive. */
export interface TrackerAnnounce {
  readonly type: 'announce';
  readonly swarm: string;
  readonly peerId: string;
  /** False when this viewer does not upload (opted out); the tracker does not hand it out as a relay. */
  readonly uploads: boolean;
  /**
   * Link slots this page still has free in this swarm (maxPeers − links − dials in progress).
   * The tracker hands a peer out to others only while it has free slots, so dials go to pages
   * that will accept them. Absent (older pages): unknown, treated as free.
   */
  readonly freeLinks?: number;
  /**
   * Segment bytes per second this page uploaded to peers since its previous announce: a
   * demonstrated upload rate. The tracker prefers fast uploaders as seeders (origin
   * fetchers) and drops a seeder that uploads far less than the swarm's median. Absent: unknown.
   */
  readonly uploadBytesPerSec?: number;
  /**
   * The token this page opened its signaling WebSocket with (PeerJS option `token`). The
   * tracker accepts an announce only when (peerId, token) is a live signaling session, so
   * nobody can announce (or withdraw) another page's id.
   */
  readonly token?: string;
  /**
   * Rates (bytes/s) at which this page received segment bytes from its top peers since its
   * previous announce, at most MAX_RECEIVED. The tracker ranks seeders by upload rates that
   * other pages confirm this way, not by what a page says of itself.
   */
  readonly received?: readonly ReceivedRate[];
  /**
   * Where this page can feed others in the stripe trees (protocol/stripes.ts): its depth in each
   * stripe it relays (-1 elsewhere) and how many more child stripes its uplink takes. The tracker
   * hands such pages out as parents to pages that lack a feed.
   */
  readonly tree?: TreeReport;
}

export interface TreeReport {
  readonly depth: readonly number[];
  readonly room: number;
  /** Stripes this page has no parent of (bit s): parent candidates are answered for these only; absent, for all. */
  readonly need?: number;
}

/** Most child stripes a page may report room for. */
export const MAX_TREE_ROOM = 64;
/** Parent candidates per stripe in one answer. */
export const PARENTS_PER_STRIPE = 2;

export interface ReceivedRate {
  readonly peer: string;
  readonly bytesPerSec: number;
}

/** Largest upload rate a page may report (10 Gbit/s). */
export const MAX_UPLOAD_BYTES_PER_SEC = 1_250_000_000;

/** Most entries in `received`. */
export const MAX_RECEIVED = 8;

/** A signaling token: what the page generates (crypto.getRandomValues), at least 16 URL-safe characters. */
export const SIGNAL_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/** Most link slots a page may report free: far above any sane maxPeers. */
export const MAX_FREE_LINKS = 256;

/** Tracker -> page. */
export interface TrackerPeers {
  readonly type: 'peers';
  readonly swarm: string;
  /** Other live peers of the swarm that accept connections, newest last. */
  readonly peers: readonly string[];
  /** How many peers the swarm has in total (a metric of the swarm). */
  readonly swarmSize: number;
  /**
   * The swarm's origin fetchers: the longest-present uploading peers, the same list for
   * everyone. In a swarm larger than one page's mesh, each new segment is fetched from the
   * origin by `fetchersPerSegment` of them (rendezvous hashing) and spreads peer to peer.
   */
  readonly seeders: readonly string[];
  readonly fetchersPerSegment: number;
  /** When to announce again. */
  readonly announceIntervalMs: number;
  /** Operator kill switch: false means "do not use P2P now". */
  readonly p2p: boolean;
  /** Per stripe, pages that relay it, have a feed of it and take children, shallowest first (large swarms). */
  readonly parents?: readonly (readonly string[])[];
}

export function parseTrackerAnnounce(v: unknown): Result<TrackerAnnounce> {
  if (!isRecord(v) || v['type'] !== 'announce') return err('not an announce');
  const swarm = v['swarm'];
  const peerId = v['peerId'];
  if (!isSafeId(swarm, LIMITS.swarmIdChars)) return err('bad swarm');
  if (!isSafeId(peerId, LIMITS.peerIdChars)) return err('bad peerId');
  // Absent: an older page, which uploads. Present: a boolean and nothing else ("yes" is refused).
  const uploads = readBool(v, 'uploads');
  if (v['uploads'] !== undefined && uploads === undefined) return err('bad uploads');
  const freeLinks = readInt(v, 'freeLinks', 0, MAX_FREE_LINKS);
  if (v['freeLinks'] !== undefined && freeLinks === undefined) return err('bad freeLinks');
  const rate = readInt(v, 'uploadBytesPerSec', 0, MAX_UPLOAD_BYTES_PER_SEC);
  if (v['uploadBytesPerSec'] !== undefined && rate === undefined) return err('bad uploadBytesPerSec');
  const token = v['token'];
  if (token !== undefined && (typeof token !== 'string' || !SIGNAL_TOKEN.test(token))) return err('bad token');
  const received = v['received'] === undefined ? undefined : readArray(v, 'received', MAX_RECEIVED, parseReceived);
  if (v['received'] !== undefined && (received === undefined || new Set(received.map((r) => r.peer)).size !== received.length)) return err('bad received');
  const tree = v['tree'] === undefined ? undefined : parseTreeReport(v['tree']);
  if (v['tree'] !== undefined && tree === undefined) return err('bad tree');
  return ok({
    type: 'announce',
    swarm,
    peerId,
    uploads: uploads ?? true,
    ...(freeLinks === undefined ? {} : { freeLinks }),
    ...(rate === undefined ? {} : { uploadBytesPerSec: rate }),
    ...(token === undefined ? {} : { token }),
    ...(received === undefined ? {} : { received }),
    ...(tree === undefined ? {} : { tree }),
  });
}

function parseTreeReport(v: unknown): TreeReport | undefined {
  if (!isRecord(v)) return undefined;
  const depth = readArray(v, 'depth', STRIPES, (d) => (Number.isInteger(d) && typeof d === 'number' && d >= -1 && d <= MAX_FEED_DEPTH ? d : undefined));
  const room = readInt(v, 'room', 0, MAX_TREE_ROOM);
  const need = v['need'] === undefined ? undefined : readInt(v, 'need', 0, ALL_STRIPES);
  if (v['need'] !== undefined && need === undefined) return undefined;
  return depth !== undefined && depth.length === STRIPES && room !== undefined ? { depth, room, ...(need === undefined ? {} : { need }) } : undefined;
}

function parseReceived(v: unknown): ReceivedRate | undefined {
  if (!isRecord(v)) return undefined;
  const peer = v['peer'];
  const bytesPerSec = readInt(v, 'bytesPerSec', 0, MAX_UPLOAD_BYTES_PER_SEC);
  return isSafeId(peer, LIMITS.peerIdChars) && bytesPerSec !== undefined ? { peer, bytesPerSec } : undefined;
}

export function parseTrackerPeers(v: unknown): Result<TrackerPeers> {
  if (!isRecord(v) || v['type'] !== 'peers') return err('not a peers answer');
  const swarm = v['swarm'];
  if (!isSafeId(swarm, LIMITS.swarmIdChars)) return err('bad swarm');
  const peers = readArray(v, 'peers', LIMITS.trackerPeers, (p) => (isSafeId(p, LIMITS.peerIdChars) ? p : undefined));
  if (peers === undefined) return err('bad peers');
  const swarmSize = readInt(v, 'swarmSize', 0, 1e9);
  if (swarmSize === undefined) return err('bad swarmSize');
  const seeders = readArray(v, 'seeders', LIMITS.trackerPeers, (p) => (isSafeId(p, LIMITS.peerIdChars) ? p : undefined));
  if (seeders === undefined) return err('bad seeders');
  const fetchersPerSegment = readInt(v, 'fetchersPerSegment', 1, LIMITS.trackerPeers);
  if (fetchersPerSegment === undefined) return err('bad fetchersPerSegment');
  const announceIntervalMs = readInt(v, 'announceIntervalMs', 500, 600_000);
  if (announceIntervalMs === undefined) return err('bad announceIntervalMs');
  const p2p = readBool(v, 'p2p');
  if (p2p === undefined) return err('bad p2p');
  const parents = v['parents'] === undefined ? undefined : readArray(v, 'parents', STRIPES, (l) => (Array.isArray(l) ? readIds(l) : undefined));
  if (v['parents'] !== undefined && (parents === undefined || parents.length !== STRIPES)) return err('bad parents');
  return ok({ type: 'peers', swarm, peers, swarmSize, seeders, fetchersPerSegment, announceIntervalMs, p2p, ...(parents === undefined ? {} : { parents }) });
}

function readIds(l: readonly unknown[]): string[] | undefined {
  if (l.length > PARENTS_PER_STRIPE) return undefined;
  const out: string[] = [];
  for (const p of l) {
    if (!isSafeId(p, LIMITS.peerIdChars)) return undefined;
    out.push(p);
  }
  return out;
}
