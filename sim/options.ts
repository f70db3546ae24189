import { DEFAULT_CONFIG, type RelaycastConfig } from '../client/config.js';

/** Every knob of a run; units in the names. See README.md for the model behind each. */
export interface SimOptions {
  readonly viewers: number;
  readonly durationSec: number;
  /** Share of viewers leaving per minute, in percent; as many new ones join. */
  readonly churnPctPerMin: number;
  /** Share of viewers that do not upload (uploadAllowed false). */
  readonly noUploadShare: number;
  readonly seed: number;
  /** Steady window starts here (virtual s); default min(30, duration / 3). */
  readonly warmupSec?: number;
  /** The initial viewers join at uniform random times in [0, rampSec). */
  readonly rampSec: number;
  readonly bitrateMbps: number;
  readonly segmentSec: number;
  readonly uplinkMedianMbps: number;
  /** Sigma of ln(uplink) around the median. */
  readonly uplinkSigma: number;
  /** Share of viewers on a slow uplink of `slowUplinkMbps` instead. */
  readonly slowShare: number;
  readonly slowUplinkMbps: number;
  readonly downlinkMbps: number;
  /** One-way access latency of each viewer, uniform; a pair's latency is the sum of both. */
  readonly accessLatencyMsMin: number;
  readonly accessLatencyMsMax: number;
  readonly originLatencyMs: number;
  /** The page's upload budget (client maxUploadBytesPerSec): Mbit/s, 0 = none, or 'auto' (the client's default). */
  readonly budgetMbps: number | 'auto';
  /**
   * Real bytes carried per segment (memory); its virtual size is bitrate * segment duration.
   * Default 2,000 per segment second. Every byte cap and rate the Swarm compares them with is
   * scaled to real bytes (viewer.ts), its slow-peer floor included; fewer real bytes are less
   * memory traffic (N = 10,000 x 40 s: 37 % less wall time than with 26,000 per second).
   */
  readonly realBytes?: number;
  /** How a viewer's connections share its uplink (network.ts). */
  readonly uplinkSharing: 'fair' | 'fifo';
  /** Virtual payload bytes per frame on the wire (the page's 64 KiB frames). */
  readonly wireChunkBytes: number;
  readonly announceIntervalMs: number;
  /** Scheduler batching (see scheduler.ts); 0 = exact. */
  readonly quantumMs: number;
  /** Replace Math.random (used by Swarm.pickHolder) with the seeded PRNG during the run. */
  readonly seedMathRandom: boolean;
  /** Overrides of the page's config (client/config.ts), e.g. maxUploadsTotal. */
  readonly client?: Partial<Pick<RelaycastConfig, 'maxPeers' | 'maxUploadsTotal' | 'maxUploadsPerPeer' | 'safetyMarginMs' | 'relayWhileReceiving'>>;
  /** False: the baseline run, the same model without relaycast (every segment from the origin). */
  readonly p2p: boolean;
  /** Progress lines (to stderr in the CLI). */
  readonly progress?: (line: string) => void;
}

export const DEFAULT_SIM: Omit<SimOptions, 'viewers' | 'durationSec'> = {
  churnPctPerMin: 0,
  noUploadShare: 0,
  seed: 1,
  rampSec: 10,
  // The default model (README.md, "The model"): an HD stream and residential uplinks with a slow tail.
  bitrateMbps: 2.5,
  segmentSec: 2,
  uplinkMedianMbps: 20,
  uplinkSigma: 0.6,
  slowShare: 0.1,
  slowUplinkMbps: 1,
  downlinkMbps: 25,
  accessLatencyMsMin: 5,
  accessLatencyMsMax: 40,
  originLatencyMs: 30,
  budgetMbps: DEFAULT_CONFIG.maxUploadBytesPerSec === 'auto' ? 'auto' : (DEFAULT_CONFIG.maxUploadBytesPerSec * 8) / 1e6,
  uplinkSharing: 'fair',
  wireChunkBytes: 64 * 1024,
  announceIntervalMs: 3000,
  quantumMs: 1,
  seedMathRandom: true,
  p2p: true,
};

export interface SimResult {
  readonly viewers: number;
  readonly durationSec: number;
  readonly virtual: true;
  readonly churnPctPerMin: number;
  readonly noUploadShare: number;
  readonly seed: number;
  readonly p2p: boolean;
  readonly offload: number | null;
  readonly bound: number;
  readonly continuity: number | null;
  readonly lagSecP50: number | null;
  readonly lagSecP95: number | null;
  readonly holdBackSec: number;
  readonly hopDepth: Record<string, number>;
  readonly uploadRatio: { p50: number | null; p95: number | null; max: number | null };
  readonly uploadRatioUploaders: { p50: number | null; p95: number | null; max: number | null };
  readonly originSegmentBytes: number;
  readonly segmentBytesToPlayers: number;
  readonly stalls: number;
  readonly stallSec: number;
  readonly plays: number;
  readonly wallSec: number;
  readonly events: number;
  readonly model: Record<string, unknown>;
  readonly diagnostics: Record<string, unknown>;
}

export function validate(o: SimOptions): void {
  const need = (ok: boolean, msg: string): void => {
    if (!ok) throw new RangeError(`simulate: ${msg}`);
  };
  need(Number.isInteger(o.viewers) && o.viewers >= 1, 'viewers must be an integer >= 1');
  need(o.durationSec > 0, 'duration must be > 0');
  need(o.churnPctPerMin >= 0, 'churn must be >= 0');
  need(o.noUploadShare >= 0 && o.noUploadShare <= 1, 'no-upload share must be in [0, 1]');
  need(o.realBytes === undefined || (o.realBytes >= 1 && o.realBytes <= 64 * 1024), 'realBytes must be in [1, 65536] (one frame per segment)');
  need(o.wireChunkBytes >= 1024, 'wire chunk must be >= 1024 bytes');
  need(o.uplinkSharing === 'fair' || o.uplinkSharing === 'fifo', "uplink sharing must be 'fair' or 'fifo'");
  need(o.budgetMbps === 'auto' || (Number.isFinite(o.budgetMbps) && o.budgetMbps >= 0), "budget must be 'auto' or >= 0 Mbit/s");
  need(o.bitrateMbps > 0 && o.segmentSec > 0, 'bitrate and segment duration must be > 0');
}
