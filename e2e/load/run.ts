import { setTimeout as sleep } from 'node:timers/promises';
import { startAdapter, type Adapter } from '../../origin-adapter/index.js';
import { viewerBrowsers, type ViewerBrowser } from '../lab/browsers.js';
import type { UplinkCap } from '../lab/uplink-spec.js';
import type { CandidateCounts } from '../../origin-adapter/ice.js';
import { labAdapterOptions, openLab, readUdpBytes, udpBytesDuring, wantsLab, type OpenLab } from './lab-run.js';
import type { ProbeSample } from '../support/page-probe.js';
import { openViewer, type Viewer, type ViewerRole } from '../support/viewers.js';
import { untilLiveWindowSlides } from '../support/live-stream.js';
import { PLAYER_PROTOCOLS, type PlayerName } from '../../origin-adapter/player-page.js';
import { cpuMeter } from './cpu.js';
import { BrowserCpu, type CpuSnapshot } from './browser-cpu.js';
import { cpuProfile, type CpuProfile } from './cpu-profile.js';
import { computeResult, median, type Faults, type IntegrityCount, type LabSummary, type LoadEvent, type LoadResult, type Tick } from './metrics.js';
import { attackDuringLoad, type LoadAttack } from './attack.js';
import { withIngestOrigins } from './ingest-origin.js';
import { pusherLatency, type ClockReading, type PusherLatency } from './clock-latency.js';
import { startSecondNode } from './nodes.js';

export { DEFAULT_LOAD_OPTIONS, type BaselineMode, type LoadOptions } from './options.js';
import type { BaselineMode, LoadOptions } from './options.js';


/** Seconds of steady window (after the last viewer opened and the warmup) a live run keeps at least. */
const MIN_STEADY_SEC = 15;

interface Entry {
  readonly id: number;
  readonly role: ViewerRole;
  /** The embedded page's player (undefined with `url`). */
  readonly player: PlayerName | undefined;
  readonly openedSec: number;
  /** Lab slot (network namespace and uplink cap); on loopback, the opening order of the initial viewers. */
  readonly slot: number;
  readonly browser: ViewerBrowser;
  readonly viewer: Viewer;
  last: ProbeSample | null;
  present: boolean;
}

async function originBytes(statsUrl: string): Promise<number | null> {
  try {
    const r = await fetch(statsUrl, { signal: AbortSignal.timeout(3000) });
    if (!r.ok) return null;
    const j: unknown = await r.json();
    const v = typeof j === 'object' && j !== null ? (j as Record<string, unknown>)['originSegmentBytes'] : undefined;
    return typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}

/** The origin's hash of a segment the player received: `path`, or `path|start-end` for a byte range. */
function hashLookup(adapter: Adapter | undefined, pageUrl: string): (key: string) => Promise<string | undefined> {
  if (adapter) return (key) => adapter.segmentHashNow(key);
  return async (key) => {
    try {
      const [path = '', range] = key.split('|');
      const u = new URL('/relaycast/hash', pageUrl);
      u.searchParams.set('path', path);
      if (range !== undefined) u.searchParams.set('range', range);
      const r = await fetch(u, { signal: AbortSignal.timeout(3000) });
      const j: unknown = r.ok ? await r.json() : undefined;
      const v = typeof j === 'object' && j !== null ? (j as Record<string, unknown>)['sha256'] : undefined;
      return typeof v === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  };
}

function embeddedPage(playerUrl: string, o: LoadOptions, player: PlayerName): string {
  const u = new URL(playerUrl);
  u.searchParams.set('player', player);
  u.searchParams.set('protocol', o.protocol);
  if (o.vod) u.searchParams.set('vod', '1');
  return u.href;
}

/** The embedded page's player of viewer slot `slot`. */
function playerOf(o: Pick<LoadOptions, 'player' | 'players'>, slot: number): PlayerName {
  const list = o.players !== undefined && o.players.length > 0 ? o.players : [o.player];
  return list[slot % list.length] ?? o.player;
}

function checkOptions(o: LoadOptions): void {
  const players = o.players !== undefined && o.players.length > 0 ? o.players : [o.player];
  for (const p of players) if (!PLAYER_PROTOCOLS[p].includes(o.protocol)) throw new Error(`${p} does not play ${o.protocol}`);
  if (o.origin !== undefined && o.url !== undefined) throw new Error('origin and url exclude each other');
  if (o.origin !== undefined && wantsLab(o)) throw new Error('the network lab starts its own adapter on its bridge (no origin)');
  if (o.baselineOrigin !== undefined && o.baselineOrigin === o.origin) throw new Error('the concurrent baseline needs an adapter of its own: one origin counter cannot tell the runs apart');
  if ((o.signalNodes ?? 1) > 1 && (o.origin !== undefined || o.url !== undefined || wantsLab(o))) throw new Error('a second signaling node needs the run\'s own adapter on loopback (no origin, url or lab)');
}

/** The same invocation without P2P: malicious or slow uploaders, signaling outages and the attack are moot; churn still applies. */
function baselineOf(o: LoadOptions, origin: Adapter | undefined): LoadOptions {
  const { origin: _o, baselineOrigin: _b, ...rest } = o;
  return { ...rest, ...(origin ? { origin } : {}), p2p: false, baseline: false, malicious: 0, slowPeers: 0, signalOutageSec: 0, attack: false, signalNodes: 1 };
}

/**
 * Runs the load and (with `baseline`) the same load without P2P, after it or at the same time
 * (`baselineMode`); with `uplinkMbps`, both in one network lab.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult & { attack?: LoadAttack; cpu?: CpuProfile | null; pusherLatency?: PusherLatency }> {
  if (o.ingest === true && o.origin === undefined) return withIngestOrigins(o, runLoad);
  checkOptions(o);
  const withBaseline = o.baseline && o.p2p;
  if (withBaseline && o.baselineMode === 'concurrent') {
    o.progress('baseline: the same run without P2P, at the same time');
    const tag = (p: string) => (line: string) => o.progress(`${p} ${line}`);
    // In the lab, the baseline's viewers take a second set of slots with the same caps and NATs.
    const lab = wantsLab(o) ? await openLab(o, 2) : undefined;
    try {
      const [main, baseline] = await Promise.all([
        runOnce({ ...o, progress: tag('[p2p]') }, lab),
        runOnce(baselineOf({ ...o, progress: tag('[baseline]') }, o.baselineOrigin), lab, o.viewers),
      ]);
      return { ...main, baselineMode: 'concurrent', baseline };
    } finally {
      lab?.lab.destroy();
    }
  }
  const lab = wantsLab(o) ? await openLab(o) : undefined;
  try {
    const main = await runOnce(o, lab);
    if (!withBaseline) return main;
    o.progress('baseline: the same run without P2P');
    const baseline = await runOnce(baselineOf(o, o.origin), lab);
    return { ...main, baselineMode: 'after', baseline };
  } finally {
    lab?.lab.destroy();
  }
}

function roleOf(i: number, o: LoadOptions): ViewerRole {
  // Faulty viewers join among the first, so they are in the swarm the whole run.
  if (!o.p2p) return 'honest';
  if (i >= 1 && i <= o.malicious) return 'malicious';
  if (i > o.malicious && i <= o.malicious + o.slowPeers) return 'slow';
  return 'honest';
}

/** The run's adapter: `origin`, or one of its own (started, and for a live stream past its first window), or none with `url`. */
async function adapterFor(o: LoadOptions, lab: OpenLab | undefined): Promise<{ adapter: Adapter | undefined; own: boolean }> {
  if (o.url !== undefined) return { adapter: undefined, own: false };
  if (o.origin !== undefined) return { adapter: o.origin, own: false };
  // In the lab the adapter listens on the bridge, the one address every viewer namespace reaches.
  const inLab = lab ? labAdapterOptions(lab) : {};
  const adapter = await startAdapter({ port: 0, log: () => undefined, ...o.adapter, ...inLab });
  try {
    // Viewers join a stream that is already running, not one whose window still fills (see untilLiveWindowSlides).
    if (!o.vod) await untilLiveWindowSlides(adapter);
  } catch (e) {
    await adapter.close();
    throw e;
  }
  return { adapter, own: true };
}

/** `slotBase`: the first of this run's lab slots (a concurrent baseline takes the second set). */
async function runOnce(o: LoadOptions, lab?: OpenLab, slotBase = 0): Promise<LoadResult & { attack?: LoadAttack; cpu?: CpuProfile | null; pusherLatency?: PusherLatency }> {
  const second = o.p2p && (o.signalNodes ?? 1) > 1 ? await startSecondNode() : undefined;
  const { adapter, own } = await adapterFor(second ? { ...o, adapter: { ...o.adapter, redis: second.redisUrl } } : o, lab).catch(async (e: unknown) => {
    await second?.close();
    throw e;
  });
  const pageOf = (slot: number): string => {
    if (o.url !== undefined) return o.url;
    if (adapter === undefined) throw new Error('no page: neither url nor an adapter');
    return embeddedPage(adapter.playerUrl, o, playerOf(o, slot));
  };
  const url = pageOf(0);
  const statsUrl = new URL('/relaycast/stats', url).href;
  const hashOf = hashLookup(adapter, url);
  // Origin bytes are counted from here: a shared adapter (or a page's origin) may have served others before.
  const origin0 = await originBytes(statsUrl);
  const labSlots = { from: slotBase, count: o.viewers };
  const udp0 = readUdpBytes(lab, labSlots);
  const signaled0 = adapter?.signalingStats()?.candidates;
  const browsers = await viewerBrowsers(lab?.lab, new URL(url).origin);
  try {
    await browsers.prepare(Array.from({ length: o.viewers }, (_, i) => slotBase + i));
  } catch (e) {
    await browsers.close();
    if (own) await adapter?.close();
    throw e;
  }
  // The viewers' browser's CPU at each poll (one shared browser: loopback only).
  const browserCpu = o.profileCpu && browsers.shared ? await BrowserCpu.attach(browsers.shared) : undefined;
  const cpuSnaps: CpuSnapshot[] = [];
  const entries: Entry[] = [];
  const ticks: Tick[] = [];
  const errors: string[] = [];
  const integrity: IntegrityCount = { checked: 0, corrupted: 0, unknown: 0 };
  const integrityOf = new Map<number, IntegrityCount>();
  const events: LoadEvent[] = [];
  const t0 = Date.now();
  const now = (): number => (Date.now() - t0) / 1000;
  const cpu = cpuMeter();
  let lastOpenedSec = 0;
  let nextId = 0;
  const clockReadings = new Map<number, ClockReading[]>();
  const clockUnreadable = new Map<number, number>();

  /** Opens a viewer in lab slot `slot` (a viewer that replaces one takes its slot, so its uplink). */
  const open = async (role: ViewerRole, slot: number): Promise<void> => {
    const id = nextId++;
    let b: ViewerBrowser | undefined;
    try {
      b = await browsers.open(slotBase + slot);
      const nodeOptions = second && adapter ? second.viewerOptions(slot, adapter.url) : undefined;
      const options = o.clientOptions || nodeOptions ? { options: { ...o.clientOptions, ...nodeOptions } } : {};
      const viewer = await openViewer(b.browser, pageOf(slot), id, { p2p: o.p2p, role, clockProbe: o.ingest === true, ...options });
      entries.push({ id, role, player: o.url === undefined ? playerOf(o, slot) : undefined, slot, browser: b, openedSec: now(), viewer, last: null, present: true });
    } catch (e) {
      await b?.release();
      errors.push(`viewer ${id} failed to open: ${String(e)}`);
    }
  };
  const check = async (id: number, hashes: readonly { path: string; sha256: string }[]): Promise<void> => {
    const mine = integrityOf.get(id) ?? { checked: 0, corrupted: 0, unknown: 0 };
    integrityOf.set(id, mine);
    for (const h of hashes) {
      const want = await hashOf(h.path);
      for (const c of [integrity, mine]) {
        if (want === undefined) c.unknown++;
        else {
          c.checked++;
          if (want !== h.sha256) c.corrupted++;
        }
      }
    }
  };
  /** Checks the segments the viewer received since the last sample, then keeps the sample (without them). */
  const record = async (e: Entry, s: ProbeSample): Promise<void> => {
    await check(e.id, s.hashes);
    e.last = { ...s, hashes: [] };
  };
  const poll = async (): Promise<void> => {
    const present = entries.filter((e) => e.present);
    const [origin, samples] = await Promise.all([originBytes(statsUrl), Promise.all(present.map((e) => e.viewer.sample()))]);
    for (const [i, s] of samples.entries()) {
      const e = present[i];
      if (e && s) await record(e, s);
    }
    if (o.ingest === true) {
      for (const e of present) {
        const c = await e.viewer.clock();
        if (c === null) continue;
        clockReadings.set(e.id, [...(clockReadings.get(e.id) ?? []), ...c.latencySec.map((latencySec) => ({ tSec: now(), latencySec }))]);
        clockUnreadable.set(e.id, c.unreadable);
      }
    }
    ticks.push({
      tSec: now(),
      cpuBusy: cpu(),
      originSegmentBytes: origin === null || origin0 === null ? origin : origin - origin0,
      viewers: entries.map((e) => ({ id: e.id, role: e.role, ...(e.player ? { player: e.player } : {}), openedSec: e.openedSec, present: e.present, sample: e.last })),
    });
    if (browserCpu) cpuSnaps.push(await browserCpu.sample(now()));
  };
  const churn = async (): Promise<void> => {
    const present = entries.filter((e) => e.present);
    const k = Math.min(present.length, Math.round((o.churnPct / 100) * o.viewers));
    const leaving = [...present].sort(() => Math.random() - 0.5).slice(0, k);
    for (const e of leaving) {
      const s = await e.viewer.sample();
      if (s) await record(e, s);
      e.present = false;
      errors.push(...e.viewer.pageErrors.map((m) => `viewer ${e.id}: ${m}`));
      await e.viewer.close();
      await e.browser.release();
    }
    for (const e of leaving) await open(e.role, e.slot);
    events.push({ tSec: Math.round(now() * 10) / 10, what: 'churn' });
    o.progress(`churn: ${k} left, ${k} joined at ${now().toFixed(0)} s`);
  };

  try {
    for (let i = 0; i < o.viewers; i++) {
      await open(roleOf(i, o), i);
      lastOpenedSec = now();
      o.progress(`viewer ${i + 1}/${o.viewers} (${roleOf(i, o)}) opened at ${lastOpenedSec.toFixed(1)} s`);
      if (i < o.viewers - 1) await sleep(o.staggerMs);
    }
    const outageAt = o.signalOutageSec > 0 ? Math.max(lastOpenedSec + 10, o.durationSec / 3) : Infinity;
    let outage: 'before' | 'during' | 'after' = 'before';
    let nextChurn = o.churnPct > 0 ? lastOpenedSec + o.churnEverySec : Infinity;
    let churning: Promise<void> | undefined;
    let nextReport = 0;
    // The attack starts once every viewer has opened, and ends a few seconds before the run does.
    const attackAt = o.attack && o.p2p && adapter ? lastOpenedSec + 5 : Infinity;
    let attacking: Promise<LoadAttack> | undefined;
    // A live run whose viewers took long to open (a busy machine) plays on until its steady window has MIN_STEADY_SEC.
    const endSec = o.vod ? o.durationSec : Math.max(o.durationSec, lastOpenedSec + o.warmupSec + MIN_STEADY_SEC);
    if (endSec > o.durationSec) o.progress(`viewers took ${lastOpenedSec.toFixed(0)} s to open: the run lasts ${endSec.toFixed(0)} s`);
    while (now() < endSec) {
      await poll();
      const t = ticks[ticks.length - 1]!;
      if (outage === 'before' && t.tSec >= outageAt && adapter) {
        adapter.setSignaling(false);
        events.push({ tSec: Math.round(now() * 10) / 10, what: 'signal-down' });
        outage = 'during';
        o.progress(`signaling and tracker down at ${t.tSec.toFixed(0)} s for ${o.signalOutageSec} s`);
      } else if (outage === 'during' && t.tSec >= outageAt + o.signalOutageSec && adapter) {
        adapter.setSignaling(true);
        events.push({ tSec: Math.round(now() * 10) / 10, what: 'signal-up' });
        outage = 'after';
        o.progress(`signaling and tracker back at ${t.tSec.toFixed(0)} s`);
      }
      if (second && adapter && o.killNodeAtSec !== undefined) {
        if (!second.killed && t.tSec >= o.killNodeAtSec) {
          await second.kill();
          events.push({ tSec: Math.round(now() * 10) / 10, what: 'node-killed' });
          o.progress(`second signaling node killed at ${now().toFixed(0)} s`);
        } else if (second.killed && !events.some((e) => e.what === 'node-back') && (adapter.signalingStats()?.clients ?? 0) >= entries.filter((e) => e.present).length) {
          // Every present viewer signals through the run's adapter again.
          events.push({ tSec: Math.round(now() * 10) / 10, what: 'node-back' });
        }
      }
      if (t.tSec >= attackAt && !attacking && adapter) {
        o.progress(`attack: started at ${t.tSec.toFixed(0)} s`);
        attacking = attackDuringLoad(adapter.url, Math.min(45, o.durationSec - t.tSec - 5), Math.round(t.tSec), o.progress);
      }
      if (t.tSec >= nextChurn && !churning) {
        nextChurn += o.churnEverySec;
        churning = churn().finally(() => (churning = undefined));
      }
      if (t.tSec >= nextReport) {
        nextReport = t.tSec + 10;
        const live = t.viewers.filter((v) => v.present);
        const playing = live.filter((v) => v.sample?.playing).length;
        const stalls = t.viewers.reduce((n, v) => n + (v.sample?.stalls ?? 0), 0);
        const peers = t.viewers.reduce((n, v) => n + (v.sample?.relaycast?.deliveredPeerBytes ?? 0), 0);
        const toPlayers = t.viewers.reduce((n, v) => n + (v.sample?.segmentBytes ?? 0), 0);
        const behindPusher = median([...clockReadings.values()].flat().filter((r) => r.tSec > t.tSec - 10).map((r) => r.latencySec));
        o.progress(
          `t=${t.tSec.toFixed(0)}s playing ${playing}/${live.length} stalls ${stalls} origin ${mb(t.originSegmentBytes)} to-players ${mb(toPlayers)} from-peers ${mb(peers)}` +
            (integrity.corrupted > 0 ? ` CORRUPTED ${integrity.corrupted}` : '') +
            (behindPusher !== null ? ` pusher->screen ${behindPusher.toFixed(2)} s` : ''),
        );
      }
      await sleep(Math.max(0, Math.min(o.pollMs, (endSec - now()) * 1000)));
    }
    await churning;
    const attack = await attacking;
    if (outage === 'during') adapter?.setSignaling(true);
    await poll();
    for (const e of entries) if (e.present) errors.push(...e.viewer.pageErrors.map((m) => `viewer ${e.id}: ${m}`));
    const faults: Faults = { malicious: o.malicious, churnPct: o.churnPct, signalOutageSec: o.signalOutageSec, slowPeers: o.slowPeers };
    const computed = computeResult(ticks, { viewers: o.viewers, durationSec: o.durationSec, p2p: o.p2p, warmupSec: o.warmupSec, lastOpenedSec, errors, integrity, integrityOf, faults, events, wholeRun: o.vod && o.url === undefined });
    const labSummary = lab ? { ...lab.summary, udpBytes: udpBytesDuring(udp0, readUdpBytes(lab, labSlots)) } : undefined;
    const routed = withUplinks(computed, o, labSummary, new Map(entries.map((e) => [e.id, e.slot])));
    const result = {
      ...routed,
      ...(o.ingest === true ? { pusherLatency: pusherLatency(clockReadings, [...clockUnreadable.values()].reduce((a, b) => a + b, 0), routed.window) } : {}),
      candidates: routesAtEnd(entries),
      signaledCandidates: signaledSince(signaled0, adapter?.signalingStats()?.candidates),
      ...(o.p2p && o.clientOptions ? { clientOptions: { ...o.clientOptions } } : {}),
      // The window's start is rounded to 0.1 s: its tick is the first at or after it, less that.
      ...(browserCpu ? { cpu: cpuProfile(ticks, cpuSnaps, computed.window.startSec - 0.05) ?? null } : {}),
    };
    const withAttack = attack === undefined ? result : { ...result, attack };
    const players = [...new Set(Array.from({ length: o.viewers }, (_, i) => playerOf(o, i)))].join(',');
    return o.url === undefined ? { stream: { player: players, protocol: o.protocol, vod: o.vod, ...(o.ingest === true ? { source: 'rtmp' } : {}) }, ...withAttack } : withAttack;
  } finally {
    await browserCpu?.detach();
    await Promise.all(entries.map((e) => e.viewer.close()));
    await browsers.close();
    if (own) await adapter?.close();
    await second?.close();
  }
}

/** The embedded source's bitrate, the lab's caps and each viewer's cap (its slot's), recorded in the result. */
function withUplinks(r: LoadResult, o: LoadOptions, lab: LabSummary | undefined, slotOf: ReadonlyMap<number, number>): LoadResult {
  return {
    ...r,
    bitrateKbps: o.url === undefined ? (o.adapter?.bitrateKbps ?? null) : null,
    lab: lab ?? null,
    perViewer: r.perViewer.map((v) => {
      const slot = slotOf.get(v.id);
      const inLab = lab && slot !== undefined;
      const uplinkMbps: UplinkCap = inLab ? (lab.uplinkMbps[slot] ?? null) : null;
      return { ...v, uplinkMbps, nat: inLab ? (lab.nat[slot] ?? null) : null };
    }),
  };
}

/** The present viewers' connections by route, from their last stats. */
function routesAtEnd(entries: readonly Entry[]): { host: number; srflx: number; relay: number } {
  const out = { host: 0, srflx: 0, relay: 0 };
  for (const e of entries) {
    const c = e.present ? e.last?.relaycast?.candidates : undefined;
    if (c) for (const k of ['host', 'srflx', 'relay'] as const) out[k] += c[k];
  }
  return out;
}

function signaledSince(before: CandidateCounts | undefined, after: CandidateCounts | undefined): CandidateCounts | null {
  if (before === undefined || after === undefined) return null;
  return { host: after.host - before.host, srflx: after.srflx - before.srflx, prflx: after.prflx - before.prflx, relay: after.relay - before.relay };
}

function mb(n: number | null): string {
  return n === null ? 'n/a' : `${(n / 1e6).toFixed(2)} MB`;
}
