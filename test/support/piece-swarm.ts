import { createHash } from 'node:crypto';
import type { Verdict } from '../../client/core/integrity.js';
import { emptyStats } from '../../client/core/stats.js';
import { SegmentStore } from '../../client/storage/store.js';
import { Swarm, type SwarmConfig, type SwarmEnv } from '../../client/swarm/swarm.js';
import { Uploader } from '../../client/swarm/uploader.js';
import { PeerLink, type LinkConfig } from '../../client/transport/peer-link.js';
import { LEAF_BYTES, pieceCount, pieceSpan } from '../../protocol/pieces.js';
import type { ByteRange } from '../../protocol/segment-id.js';
import type { PlaylistUpdate } from '../../protocol/worker.js';
import { channelPair } from './fake-channel.js';

/** Test swarms use small pieces so a 150 kB segment has a dozen. */
export const PIECE = 12_500;
export const SWARM = 'http://origin.test/live/index.m3u8';
export const LINK: LinkConfig = { pieceBytes: PIECE, maxPendingPieces: 8 };
export const CFG: SwarmConfig = { originFetchers: 1 };

export const url = (seq: number): string => `http://origin.test/live/seg_${seq}.ts`;

export function segBytes(seq: number, size = 150_000): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seq) & 0xff;
  return b;
}

const sha = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
export const digest = (b: Uint8Array): Promise<Uint8Array> => Promise.resolve(new Uint8Array(sha(b)));

/** What the origin publishes for a segment: its SHA-256 and its piece root (base64url). */
export function published(bytes: Uint8Array, pieceBytes = PIECE): { sha256: string; pieceRoot: string; list: Uint8Array } {
  const n = pieceCount(bytes.byteLength, pieceBytes);
  const list = new Uint8Array(n * LEAF_BYTES);
  for (let i = 0; i < n; i++) {
    const { start, end } = pieceSpan(i, bytes.byteLength, pieceBytes);
    list.set(sha(bytes.subarray(start, end)), i * LEAF_BYTES);
  }
  return { sha256: sha(bytes).toString('base64url'), pieceRoot: sha(list).toString('base64url'), list };
}

const seqOf = (id: string): number => Number(/(\d+)\.ts$/.exec(id)?.[1]);

export interface TestViewer {
  readonly id: string;
  readonly swarm: Swarm;
  readonly stats: ReturnType<typeof emptyStats>;
  readonly uploader: Uploader;
  /** `<id> <url>` or `<id> <url> <start>-<end>` per origin fetch. */
  readonly origin: string[];
  readonly bans: string[];
}

/** A page's swarm with the origin's real hashes; origin fetches are logged. */
export function makeViewer(id: string, opts: { cfg?: SwarmConfig; env?: Partial<SwarmEnv>; origin?: string[]; slots?: number } = {}): TestViewer {
  const stats = emptyStats();
  const origin = opts.origin ?? [];
  const bans: string[] = [];
  const uploader = new Uploader({ slots: opts.slots ?? 2, maxQueued: 32 }, { throttle: async () => undefined, onUploaded: (_l, n) => (stats.uploadedBytes += n), now: () => performance.now() });
  const check = (id: string, got: Uint8Array, kind: 'sha256' | 'pieceRoot'): Verdict => {
    const p = published(segBytes(seqOf(id)));
    return sha(got).toString('base64url') === p[kind] ? 'ok' : 'mismatch';
  };
  const env: SwarmEnv = {
    selfId: () => id,
    originFetch: async (u: string, _range?: ByteRange, part?: ByteRange) => {
      origin.push(part ? `${id} ${u} ${part.start}-${part.end}` : `${id} ${u}`);
      const b = segBytes(seqOf(u));
      return part ? b.slice(part.start, part.end + 1) : b;
    },
    describe: async (sid) => {
      const b = segBytes(seqOf(sid));
      return { bytes: b.byteLength, list: published(b).list };
    },
    stats,
    uploader,
    uploadAllowed: () => true,
    verify: async (sid, bytes) => check(sid, bytes, 'sha256'),
    verifyList: async (sid, list) => check(sid, list, 'pieceRoot'),
    onBadPeer: (peerId) => {
      bans.push(peerId);
      swarm.links.get(peerId)?.close('banned');
    },
    pieceBytes: PIECE,
    digest,
    ...opts.env,
  };
  const swarm = new Swarm(SWARM, opts.cfg ?? CFG, new SegmentStore({ maxBytes: 1 << 26, keepSegments: 10 }), env);
  return { id, swarm, stats, uploader, origin, bans };
}

export function playlist(upTo: number, from = Math.max(0, upTo - 5)): PlaylistUpdate {
  const segments = [];
  for (let s = from; s <= upTo; s++) segments.push({ id: url(s), url: url(s), seq: s, durationSec: 2 });
  return { type: 'rc-playlist', swarm: SWARM, targetDurationSec: 2, live: true, integrity: true, segments };
}

/** A raw peer end for hostile tests: `send` JSON or frames to the viewer, see what it sends back. */
export function rawPeer(v: TestViewer, peerId: string, uploadBytesPerSec?: number): { link: PeerLink; send(d: string | ArrayBuffer): void; got: unknown[] } {
  const { a, b } = channelPair(uploadBytesPerSec === undefined ? {} : { a: uploadBytesPerSec });
  const link = new PeerLink(peerId, SWARM, a, v.swarm, LINK);
  const got: unknown[] = [];
  a.onData = (d) => link.receive(d);
  b.onData = (d) => got.push(d);
  v.swarm.addLink(link);
  link.start();
  return { link, send: (d) => b.send(d), got };
}
