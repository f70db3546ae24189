import { DEFAULT_CONFIG, type RelaycastConfig } from '../client/config.js';
import { PIECE_BYTES } from '../protocol/pieces.js';
import { uploadRate } from '../client/core/upload-allowance.js';
import { createTracker, trackerConfig } from '../origin-adapter/tracker.js';
import { Metrics, percentile, round } from './metrics.js';
import { Network, DEFAULT_NET } from './network.js';
import { Origin } from './origin.js';
import { Rng } from './rng.js';
import { Scheduler } from './scheduler.js';
import { Viewer, type ViewerSpec, type World } from './viewer.js';
import { DEFAULT_SIM, validate, type SimOptions, type SimResult } from './options.js';
export { DEFAULT_SIM, type SimOptions, type SimResult } from './options.js';

const mbps = (x: number): number => (x * 1e6) / 8;
const mean = (xs: readonly number[]): number | null => (xs.length > 0 ? round(xs.reduce((a, b) => a + b, 0) / xs.length, 2) : null);

export async function simulate(input: Partial<SimOptions> & { viewers: number; durationSec: number }): Promise<SimResult> {
  const o: SimOptions = { ...DEFAULT_SIM, ...input };
  validate(o);
  const wallStart = performance.now();
  const rng = new Rng(o.seed);
  const mathRng = rng.fork();
  const savedRandom = Math.random;
  if (o.seedMathRandom) Math.random = () => mathRng.next();
  try {
    return await runWorld(o, rng, wallStart);
  } finally {
    Math.random = savedRandom;
  }
}

async function runWorld(o: SimOptions, rng: Rng, wallStart: number): Promise<SimResult> {
  const durationMs = o.durationSec * 1000;
  const warmupMs = (o.warmupSec ?? Math.min(30, o.durationSec / 3)) * 1000;
  const segmentMs = o.segmentSec * 1000;
  const segmentBytes = Math.round(mbps(o.bitrateMbps) * o.segmentSec);
  // The budget a page reaches at this bitrate (for the capacity bound; pages measure the bitrate themselves).
  const budgetBytesPerSec = uploadRate(o.budgetMbps === 'auto' ? 'auto' : mbps(o.budgetMbps), mbps(o.bitrateMbps));
  const realBytes = Math.min(segmentBytes, o.realBytes ?? Math.round(2_000 * o.segmentSec));
  const sched = new Scheduler();
  const net = new Network(sched, { ...DEFAULT_NET, payloadScale: segmentBytes / realBytes, sharing: o.uplinkSharing, wireChunkBytes: o.wireChunkBytes });
  const client: RelaycastConfig = { ...DEFAULT_CONFIG, ...o.client };
  // Players ask for a segment within their hold-back plus the longest peer wait of its availability.
  const tailMs = 4 * segmentMs + client.maxPeerWaitMs;
  const metrics = new Metrics(warmupMs, durationMs - tailMs);
  // A piece is one page frame on the wire: its real bytes scale like every other byte.
  const pieceBytes = Math.max(1, Math.floor(PIECE_BYTES / net.cfg.payloadScale));
  const origin = new Origin(sched, { segmentMs, windowSegments: 6, segmentBytes, realBytes, originLatencyMs: o.originLatencyMs, pieceBytes }, (at) => metrics.countsSegment(at));
  const tracker = createTracker(trackerConfig({ announceIntervalMs: o.announceIntervalMs, p2p: true }, () => sched.now()));
  const world: World = {
    sched,
    net,
    tracker,
    origin,
    metrics,
    viewers: new Map(),
    player: { segmentMs, liveSyncSegments: 3 },
    client,
    maxPeers: client.maxPeers,
    budget: o.budgetMbps === 'auto' ? 'auto' : mbps(o.budgetMbps),
    p2p: o.p2p,
    violations: new Map(),
    seeders: [],
    fetchersPerSegment: 1,
  };

  const viewerRng = rng.fork();
  let serial = 0;
  const spec = (uploads: boolean): ViewerSpec => {
    const slow = viewerRng.next() < o.slowShare;
    const up = slow ? o.slowUplinkMbps : viewerRng.lognormal(o.uplinkMedianMbps, o.uplinkSigma);
    // Random ids, like PeerJS UUIDs: "the smaller id dials" is then random with respect to join order.
    return {
      id: `${viewerRng.hex(12)}-${(serial++).toString(36)}`,
      uplinkBytesPerSec: mbps(up),
      downlinkBytesPerSec: mbps(o.downlinkMbps),
      accessLatencyMs: viewerRng.uniform(o.accessLatencyMsMin, o.accessLatencyMsMax),
      uploads,
    };
  };

  // Exactly round(share * N) viewers without upload; a leaver's replacement takes its setting, so the share stays exact.
  const noUpload = Math.round(o.noUploadShare * o.viewers);
  const flags = Array.from({ length: o.viewers }, (_, i) => i >= noUpload);
  for (let i = flags.length - 1; i > 0; i--) {
    const j = viewerRng.int(i + 1);
    [flags[i], flags[j]] = [flags[j]!, flags[i]!];
  }
  const population: Viewer[] = [];
  const departed: Viewer[] = [];
  let capacity = 0;
  for (const uploads of flags) {
    const v = new Viewer(world, spec(uploads));
    if (uploads) capacity += Math.min(v.spec.uplinkBytesPerSec, (budgetBytesPerSec || Infinity));
    population.push(v);
    sched.at(viewerRng.uniform(0, o.rampSec * 1000), () => v.join());
  }

  // Churn: every leave is paired with a join (new id, new uplink), at a steady rate.
  let joins = 0;
  let leaves = 0;
  const churnRng = rng.fork();
  const perMin = (o.churnPctPerMin / 100) * o.viewers;
  if (perMin > 0) {
    const gapMs = 60_000 / perMin;
    const churn = (): void => {
      const i = churnRng.int(population.length);
      const gone = population[i];
      if (gone?.alive) {
        gone.leave();
        departed.push(gone);
        leaves++;
        const fresh = new Viewer(world, spec(gone.spec.uploads));
        population[i] = fresh;
        fresh.join();
        joins++;
      }
      sched.after(gapMs, churn);
    };
    sched.at(o.rampSec * 1000 + churnRng.uniform(0, gapMs), churn);
  }

  const every = (ms: number, from: number, fn: () => void): void => {
    const tick = (): void => {
      fn();
      sched.after(ms, tick);
    };
    sched.at(from, tick);
  };
  every(o.announceIntervalMs, o.announceIntervalMs, () => tracker.prune());
  const linkCounts: number[] = [];
  const linkCountsNoUpload: number[] = [];
  every(1000, warmupMs, () => {
    const now = sched.now();
    const edge = origin.edgeSec(now);
    for (const v of population) {
      const head = v.alive ? v.player.playheadMs(now) : undefined;
      if (head !== undefined) metrics.lag(edge - head / 1000);
    }
  });
  every(10_000, warmupMs, () => {
    for (const v of population) {
      if (!v.alive) continue;
      (v.spec.uploads ? linkCounts : linkCountsNoUpload).push(v.readyLinks());
    }
  });
  let peakHeap = 0;
  let peakRss = 0;
  every(10_000, 10_000, () => {
    const mem = process.memoryUsage();
    const heap = mem.heapUsed / 1e6;
    peakHeap = Math.max(peakHeap, heap);
    peakRss = Math.max(peakRss, mem.rss / 1e6);
    const served = origin.windowBytes.head + origin.windowBytes.owner + origin.windowBytes.startup + origin.windowBytes.miss + origin.windowBytes.fill;
    const off = metrics.bytesToPlayers > 0 ? 1 - served / metrics.bytesToPlayers : NaN;
    o.progress?.(
      `t=${(sched.now() / 1000).toFixed(0)}s wall=${((performance.now() - wallStart) / 1000).toFixed(1)}s events=${sched.events} heap=${heap.toFixed(0)}MB rss=${(mem.rss / 1e6).toFixed(0)}MB offload=${off.toFixed(4)} stalls=${metrics.stalls}/${metrics.plays}`,
    );
  });

  await sched.run({ untilMs: durationMs, quantumMs: o.quantumMs });

  let maxUtil = 0;
  for (const v of [...departed, ...population]) if (!Number.isNaN(v.joinedAtMs)) maxUtil = Math.max(maxUtil, v.uplinkUtilization(sched.now()));
  // Where uploaded piece bytes went: received by peers (duplicates and late ones included), and used for a segment.
  let uploaded = 0;
  let received = 0;
  let used = 0;
  let sentVirtual = 0;
  let capacityVirtual = 0;
  for (const v of [...departed, ...population]) {
    uploaded += v.stats.uploadedBytes;
    received += v.stats.peerBytes;
    used += v.stats.deliveredPeerBytes;
    if (Number.isNaN(v.joinedAtMs) || !v.spec.uploads) continue;
    sentVirtual += v.host.sentBytes;
    const end = Number.isNaN(v.leftAtMs) ? sched.now() : v.leftAtMs;
    capacityVirtual += (Math.min(v.spec.uplinkBytesPerSec, (budgetBytesPerSec || Infinity)) * (end - v.joinedAtMs)) / 1000;
  }
  const ratios: number[] = [];
  const uploaderRatios: number[] = [];
  for (const v of [...departed, ...population]) {
    const r = v.uploadRatio();
    if (r === undefined) continue;
    ratios.push(r);
    if (v.spec.uploads) uploaderRatios.push(r);
  }
  const originBytes = origin.windowBytes.head + origin.windowBytes.owner + origin.windowBytes.startup + origin.windowBytes.miss + origin.windowBytes.fill;
  const hopDepth: Record<string, number> = {};
  for (const [h, n] of [...metrics.hops].sort((a, b) => a[0] - b[0])) hopDepth[h < 0 ? 'unknown' : String(h)] = n;
  const demand = o.viewers * mbps(o.bitrateMbps);
  const byId = new Map([...departed, ...population].map((v) => [v.id, v]));
  const delays: Record<string, unknown> = {};
  for (const [kind, h] of metrics.delays) delays[kind] = { n: h.count, p10: h.percentile(0.1), p50: h.percentile(0.5), p90: h.percentile(0.9) };
  const dist = (xs: number[]) => ({ p50: round(percentile(xs, 0.5), 3), p95: round(percentile(xs, 0.95), 3), max: round(xs.length ? Math.max(...xs) : null, 3) });
  return {
    viewers: o.viewers,
    durationSec: o.durationSec,
    virtual: true,
    churnPctPerMin: o.churnPctPerMin,
    noUploadShare: o.noUploadShare,
    seed: o.seed,
    p2p: o.p2p,
    offload: metrics.bytesToPlayers > 0 ? round(1 - originBytes / metrics.bytesToPlayers) : null,
    bound: round(1 - 1 / o.viewers),
    continuity: metrics.plays > 0 ? round(1 - metrics.stalls / metrics.plays, 5) : null,
    lagSecP50: metrics.lagPercentile(0.5),
    lagSecP95: metrics.lagPercentile(0.95),
    holdBackSec: (3 * segmentMs) / 1000,
    hopDepth,
    uploadRatio: dist(ratios),
    uploadRatioUploaders: dist(uploaderRatios),
    originSegmentBytes: originBytes,
    segmentBytesToPlayers: metrics.bytesToPlayers,
    stalls: metrics.stalls,
    stallSec: round(metrics.stallMs / 1000, 3),
    plays: metrics.plays,
    wallSec: round((performance.now() - wallStart) / 1000, 2),
    events: sched.events,
    model: {
      windowSec: [warmupMs / 1000, o.durationSec],
      /** Offload counts the bytes of the segments available in this span (sim/metrics.ts). */
      segmentsSec: [warmupMs / 1000, (durationMs - tailMs) / 1000],
      bitrateMbps: o.bitrateMbps,
      segmentSec: o.segmentSec,
      segmentBytes,
      realBytesPerSegment: realBytes,
      uplinkSharing: o.uplinkSharing,
      wireChunkBytes: o.wireChunkBytes,
      uplink: `lognormal(median ${o.uplinkMedianMbps} Mbit/s, sigma ${o.uplinkSigma}); ${o.slowShare * 100}% at ${o.slowUplinkMbps} Mbit/s`,
      downlinkMbps: o.downlinkMbps,
      accessLatencyMs: [o.accessLatencyMsMin, o.accessLatencyMsMax],
      originLatencyMs: o.originLatencyMs,
      budgetMbps: o.budgetMbps,
      budgetMbpsAtBitrate: (budgetBytesPerSec * 8) / 1e6,
      maxPeers: world.maxPeers,
      client: {
        maxUploadsTotal: client.maxUploadsTotal,
        maxUploadsPerPeer: client.maxUploadsPerPeer,
        safetyMarginMs: client.safetyMarginMs,
        relayWhileReceiving: client.relayWhileReceiving,
      },
      rampSec: o.rampSec,
      quantumMs: o.quantumMs,
      /** Upload capacity of the uploading viewers over the swarm's demand (N x bitrate): offload cannot exceed it. */
      uploadCapacityRatio: round(capacity / demand, 3),
    },
    diagnostics: {
      originBytesByKind: { ...origin.windowBytes },
      originRequestsByKind: { ...origin.windowRequests },
      originMissReasons: Object.fromEntries(origin.windowMissReasons),
      misses: {
        byViewer: Object.fromEntries(metrics.missesBy),
        deadlineSec: { p10: metrics.missDeadlines.percentile(0.1), p50: metrics.missDeadlines.percentile(0.5), p90: metrics.missDeadlines.percentile(0.9) },
        samples: metrics.missSamples,
      },
      playerRequests: { fromStore: metrics.requestsStore, afterWaitingForPeer: metrics.requestsPeerWait, fromOrigin: metrics.requestsOrigin },
      manifestRefreshes: metrics.manifestRefreshes,
      meanReadyLinks: mean([...linkCounts, ...linkCountsNoUpload]),
      readyLinks: {
        uploaders: { mean: mean(linkCounts), p10: percentile(linkCounts, 0.1), p50: percentile(linkCounts, 0.5) },
        nonUploaders: { mean: mean(linkCountsNoUpload), p10: percentile(linkCountsNoUpload, 0.1), p50: percentile(linkCountsNoUpload, 0.5) },
      },
      /** Connections in the window: opened, and refused by one end (full, banned, duplicate), per virtual second. */
      linksPerSec: { opened: round(metrics.openedLinks / ((durationMs - warmupMs) / 1000), 1), refused: round(metrics.refusedLinks / ((durationMs - warmupMs) / 1000), 1) },
      closedLinks: Object.fromEntries(metrics.closedLinks),
      trackerSwarmSize: Object.values(tracker.swarmSizes())[0] ?? 0,
      /** Seconds from a segment's availability at the origin (see metrics.ts DelayKind). */
      delaysSec: delays,
      seeders: {
        fetchersPerSegment: world.fetchersPerSegment,
        uplinkMbps: world.seeders.map((id) => round(((byId.get(id)?.spec.uplinkBytesPerSec ?? NaN) * 8) / 1e6, 1)),
      },
      joins,
      leaves,
      protocolViolations: Object.fromEntries(world.violations),
      /** Peer copies that differed from the origin's bytes: a fault of the simulator (must be 0). */
      corruptCopies: origin.corruptCopies,
      maxUplinkUtilization: round(maxUtil, 4),
      /** Of the piece bytes viewers uploaded (whole run): the share peers received, and the share that reached a player. */
      uploads: {
        received: round(uploaded > 0 ? received / uploaded : null, 4),
        toPlayers: round(uploaded > 0 ? used / uploaded : null, 4),
        /** Bytes that left the uploaders' uplinks (messages included) over what those uplinks could carry while present. */
        uplinkUse: round(capacityVirtual > 0 ? sentVirtual / capacityVirtual : null, 4),
      },
      peakHeapMB: round(peakHeap, 0),
      peakRssMB: round(peakRss, 0),
    },
  };
}
