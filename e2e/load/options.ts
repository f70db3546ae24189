/** The load tool's options and their defaults (e2e/load/run.ts runs them). */
import type { Adapter, AdapterOptions } from '../../origin-adapter/index.js';
import type { PlayerName, StreamProtocol } from '../../origin-adapter/player-page.js';
import type { NatKind } from '../lab/nat-plan.js';
import type { UplinkCap } from '../lab/uplink-spec.js';

export interface LoadOptions {
  readonly viewers: number;
  readonly durationSec: number;
  readonly p2p: boolean;
  /** A player page to load instead of the embedded demo (its origin should run the relaycast adapter for origin counts). */
  readonly url?: string;
  readonly staggerMs: number;
  readonly warmupSec: number;
  readonly pollMs: number;
  readonly progress: (line: string) => void;
  /** Options for the embedded adapter (ignored with `url`). */
  readonly adapter?: Partial<AdapterOptions>;
  /** Viewers that upload corrupted, truncated or wrong-segment bytes. */
  readonly malicious: number;
  /** Share of viewers (percent) that leave and are replaced every `churnEverySec`. */
  readonly churnPct: number;
  readonly churnEverySec: number;
  /** Signaling and tracker stopped for this long, mid-run (embedded adapter only). */
  readonly signalOutageSec: number;
  /** Viewers whose upload is throttled hard. */
  readonly slowPeers: number;
  /** Also run the same invocation without P2P and attach it as `baseline` (when: `baselineMode`). */
  readonly baseline: boolean;
  /**
   * 'after' (default): the baseline runs once the P2P run is over. 'concurrent': at the same time,
   * with its own adapter and browser, so both runs see the same machine load (a same-run control).
   */
  readonly baselineMode?: BaselineMode;
  /** The concurrent baseline's adapter (otherwise it starts its own); it must not be `origin`. */
  readonly baselineOrigin?: Adapter;
  /**
   * A running adapter with the embedded source to use instead of starting one (e.g. one whose live
   * stream is past its first window, shared by several runs). Left running; origin bytes are counted
   * from the run's start.
   */
  readonly origin?: Adapter;
  /** The embedded page's player and protocol, and its VOD asset instead of the live stream (ignored with `url`). */
  readonly player: PlayerName;
  /** The embedded page's player by viewer slot, cycled (instead of `player` for all): several players in one swarm. */
  readonly players?: readonly PlayerName[];
  readonly protocol: StreamProtocol;
  readonly vod: boolean;
  /** window.relaycastOptions for every P2P viewer (tuning experiments; the baseline has no relaycast). */
  readonly clientOptions?: Readonly<Record<string, unknown>>;
  /**
   * Upload caps (Mbit/s, null: none), one per viewer slot: runs every viewer in its own network
   * namespace of the lab (`e2e/lab/`), the P2P run and the baseline alike. Embedded adapter only.
   */
  readonly uplinkMbps?: readonly UplinkCap[];
  /**
   * Per viewer slot: behind a home router's NAT (cone or symmetric; null: none) in the network
   * lab, with coturn on the bridge for STUN and TURN. Embedded adapter only.
   */
  readonly nat?: readonly (NatKind | null)[];
  /** Run the attack suite (e2e/attack) against the embedded adapter while the viewers play (P2P run only). */
  readonly attack?: boolean;
  /**
   * Sample the viewers' browser's CPU by process and thread at every poll and report it over the
   * steady window (`cpu`, e2e/load/cpu-profile.ts); loopback only (one browser for all viewers).
   */
  readonly profileCpu?: boolean;
  /**
   * The stream is pushed over RTMP by a pusher the run starts (e2e/load/ingest-origin.ts), with
   * its clock burned into the picture: the result gets `pusherLatency`, pusher's clock to screen.
   */
  readonly ingest?: boolean;
  /**
   * 2: a second signaling node (signaling and tracker only, a process of its own) shares a Redis
   * with the embedded adapter, and the P2P viewers alternate between the two (e2e/load/nodes.ts).
   */
  readonly signalNodes?: number;
  /** With `signalNodes` 2: the second node is killed (SIGKILL) this many seconds into the run. */
  readonly killNodeAtSec?: number;
}

export const DEFAULT_LOAD_OPTIONS = {
  staggerMs: 1500,
  warmupSec: 10,
  pollMs: 2000,
  malicious: 0,
  churnPct: 0,
  churnEverySec: 20,
  signalOutageSec: 0,
  slowPeers: 0,
  baseline: false,
  player: 'hls.js',
  protocol: 'hls',
  vod: false,
} as const satisfies Partial<LoadOptions>;

export type BaselineMode = 'after' | 'concurrent';
