/**
 * The network lab (Linux, root): viewers in their own network namespaces on one host bridge,
 * each with a tbf cap on its uplink, some behind a home router's NAT (`plan.ts` and
 * `nat-plan.ts` have the topology and the exact commands).
 *
 * Every object the lab creates carries its owner (pid and start time) in its name or alias, so
 * `cleanStaleLabs` removes what a crashed or killed run left and never touches a lab whose
 * process still runs. A lab is torn down by `destroy()`, and also on SIGINT/SIGTERM and at
 * process exit; a watchdog tears it down after `maxLifetimeSec`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binaries, errText, exec, killNamespace, nftBinary, runCommand, tryRun } from './lab-exec.js';
import { cleanStaleLabs, labLeftovers, selfOwner } from './lab-sweep.js';
import { NAT_LAN, natCounterArgs, natRuleset, parseNatCounters, type NatKind } from './nat-plan.js';
import {
  bridgeCommands,
  freeSubnets,
  LAB_DEFAULTS,
  labAddresses,
  labNames,
  namespaceCommands,
  teardownCommands,
  viewerCommands,
  type LabNames,
} from './plan.js';
import type { UplinkCap } from './uplink-spec.js';

export { ipBinary } from './lab-exec.js';
export { cleanStaleLabs, labLeftovers } from './lab-sweep.js';

export interface LabViewer {
  readonly slot: number;
  readonly ns: string;
  /** The viewer's own address (behind a NAT: on its home LAN). */
  readonly address: string;
  /** The address others see: its own on the bridge, or its router's WAN address behind a NAT. */
  readonly publicAddress: string;
  readonly uplinkMbps: UplinkCap;
  readonly nat: NatKind | null;
  /** The home router's namespace behind a NAT. */
  readonly router: string | undefined;
  /** An executable that runs Chromium inside this viewer's namespace (Playwright's `executablePath`). */
  readonly chromium: string;
}

export interface Lab {
  /** The lab's tag: every namespace's name starts with it, the bridge's and host veths' alias is it. */
  readonly id: string;
  readonly subnet: string;
  /** The bridge's address: where the adapter listens. */
  readonly hostAddress: string;
  readonly viewers: readonly LabViewer[];
  /** A directory of the lab's own (removed with it): config and logs of servers the lab runs. */
  readonly dir: string;
  /** UDP bytes a NATed viewer's router forwarded to the public host and to other viewers; undefined without a NAT. */
  natCounters(slot: number): { toPublic: number; toViewers: number; directTo: string[] } | undefined;
  /** `fn` runs first when the lab is torn down (stops a server bound to the bridge). */
  onDestroy(fn: () => void): void;
  /** Kills what runs in the namespaces, removes every namespace, link and qdisc. Idempotent, synchronous. */
  destroy(): void;
}

export interface LabOptions {
  /** One entry per viewer namespace. */
  readonly uplinkMbps: readonly UplinkCap[];
  /** Per viewer: behind a home router's NAT of this kind, or on the bridge (null; the default). */
  readonly nat?: readonly (NatKind | null)[];
  /** The Chromium the wrappers run (default: CHROMIUM_PATH or /usr/bin/chromium). */
  readonly chromiumPath: string;
  /** The lab is torn down (and the process exits) if it lives longer than this. */
  readonly maxLifetimeSec: number;
  readonly log: (line: string) => void;
}

/** Why the lab cannot run here, or null when it can. */
export function labUnavailable(): string | null {
  if (process.platform !== 'linux') return 'the network lab needs Linux';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'the network lab needs root (network namespaces, veth, tc)';
  let b;
  try {
    b = binaries();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  try {
    exec(b.ip, ['netns', 'list']);
  } catch (e) {
    return `ip netns is not available: ${errText(e)}`;
  }
  const forward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  // With forwarding on, a namespace's default route would reach the host's other networks.
  if (forward !== '0') return 'net.ipv4.ip_forward is on: the lab would give its namespaces a route off this machine; refusing';
  return null;
}

/** IPv4 addresses and routes on the host, as CIDRs. */
function hostCidrs(): { cidr: string; dev: string }[] {
  const b = binaries();
  const out: { cidr: string; dev: string }[] = [];
  const addrs: unknown = JSON.parse(exec(b.ip, ['-j', '-4', 'addr', 'show']) || '[]');
  for (const l of Array.isArray(addrs) ? addrs : []) {
    const r = l as Record<string, unknown>;
    const infos = Array.isArray(r['addr_info']) ? (r['addr_info'] as Record<string, unknown>[]) : [];
    for (const a of infos) {
      if (typeof a['local'] === 'string') out.push({ cidr: `${a['local']}/${String(a['prefixlen'] ?? 32)}`, dev: String(r['ifname']) });
    }
  }
  const routes: unknown = JSON.parse(exec(b.ip, ['-j', '-4', 'route', 'show', 'table', 'all']) || '[]');
  for (const r of Array.isArray(routes) ? (routes as Record<string, unknown>[]) : []) {
    const dst = r['dst'];
    if (typeof dst === 'string' && dst !== 'default') out.push({ cidr: dst.includes('/') ? dst : `${dst}/32`, dev: String(r['dev'] ?? '') });
  }
  return out;
}

function wrapperScript(ip: string, ns: string, chromium: string): string {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh\n# Chromium inside the network lab's namespace ${ns}.\nexec ${q(ip)} netns exec ${q(ns)} ${q(chromium)} "$@"\n`;
}

const SUBNET_ATTEMPTS = 8;

/** Builds a lab (stale labs are removed first). Throws after removing what it built if a step fails. */
export function createLab(o: LabOptions): Lab {
  const reason = labUnavailable();
  if (reason !== null) throw new Error(reason);
  const slots = o.uplinkMbps.length;
  if (slots < 1 || slots > LAB_DEFAULTS.maxViewers) throw new Error(`the network lab holds 1..${LAB_DEFAULTS.maxViewers} viewers, not ${slots}`);
  const nat = o.uplinkMbps.map((_, s) => o.nat?.[s] ?? null);
  if (nat.some((k) => k !== null)) nftBinary();
  const stale = cleanStaleLabs();
  if (stale.length > 0) o.log(`network lab: removed a stale lab's ${stale.join(', ')}`);

  const names: LabNames = labNames(selfOwner(), randomBytes(8).readBigUInt64BE().toString(36).slice(-5).padStart(5, '0'));
  // The Chromium wrappers' directory is named by the tag too, so a stale sweep finds it.
  const dir = join(tmpdir(), names.tag);
  mkdirSync(dir, { mode: 0o700 });
  let destroyed = false;
  const beforeDestroy: (() => void)[] = [];
  let watchdog: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    o.log(`network lab: ${signal}, tearing down ${names.tag}`);
    destroy();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  const onExit = (): void => destroy();
  function destroy(): void {
    if (destroyed) return;
    destroyed = true;
    if (watchdog !== undefined) clearTimeout(watchdog);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('exit', onExit);
    for (const fn of beforeDestroy.splice(0)) {
      try {
        fn();
      } catch (e) {
        o.log(`network lab: ${errText(e)}`);
      }
    }
    for (let s = 0; s < slots; s++) {
      killNamespace(names.ns(s));
      killNamespace(names.router(s));
    }
    for (const c of teardownCommands(names, slots)) tryRun(c);
    rmSync(dir, { recursive: true, force: true });
    const left = labLeftovers(names.tag);
    if (left.length > 0) o.log(`network lab: could not remove ${left.join(', ')}`);
  }
  // Before the first object exists, so an interrupt at any point removes what was built.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  watchdog = setTimeout(() => {
    o.log(`network lab: still up after ${o.maxLifetimeSec} s, tearing down ${names.tag}`);
    destroy();
    process.exit(124);
  }, o.maxLifetimeSec * 1000);
  watchdog.unref();

  try {
    for (const c of namespaceCommands(names, slots, nat)) runCommand(c);
    const x = pickSubnet(names, o.log);
    const a = labAddresses(x);
    for (let s = 0; s < slots; s++) {
      const kind = nat[s] ?? null;
      for (const c of viewerCommands(names, x, s, o.uplinkMbps[s] ?? null, kind)) runCommand(c);
      if (kind !== null) runCommand({ nft: names.router(s), script: natRuleset(kind, a.host, a.subnet) });
    }
    const ip = binaries().ip;
    const viewers = o.uplinkMbps.map((cap, slot): LabViewer => {
      const chromium = join(dir, `chromium-v${slot}`);
      writeFileSync(chromium, wrapperScript(ip, names.ns(slot), o.chromiumPath));
      chmodSync(chromium, 0o755);
      const kind = nat[slot] ?? null;
      return {
        slot,
        ns: names.ns(slot),
        address: kind === null ? a.viewer(slot) : NAT_LAN.viewer,
        publicAddress: a.viewer(slot),
        uplinkMbps: cap,
        nat: kind,
        router: kind === null ? undefined : names.router(slot),
        chromium,
      };
    });
    const natCounters = (slot: number): { toPublic: number; toViewers: number; directTo: string[] } | undefined => {
      const v = viewers[slot];
      if (v?.router === undefined || destroyed) return undefined;
      try {
        return parseNatCounters(exec(ip, ['netns', 'exec', v.router, nftBinary(), ...natCounterArgs()]));
      } catch {
        return undefined;
      }
    };
    return {
      id: names.tag,
      subnet: a.subnet,
      hostAddress: a.host,
      viewers,
      dir,
      natCounters,
      onDestroy: (fn) => void beforeDestroy.push(fn),
      destroy,
    };
  } catch (e) {
    destroy();
    throw e;
  }
}

/**
 * Creates the bridge on a subnet that overlaps nothing on the host. Two labs starting at once
 * may pick the same one: after adding the address, a lab that sees the subnet on another link
 * backs off and tries another.
 */
function pickSubnet(names: LabNames, log: (line: string) => void): number {
  for (let attempt = 0; attempt < SUBNET_ATTEMPTS; attempt++) {
    const free = freeSubnets(hostCidrs().map((c) => c.cidr));
    const x = free[Math.floor(Math.random() * free.length)];
    if (x === undefined) throw new Error(`network lab: no free subnet in ${LAB_DEFAULTS.netPrefix}.0.0/16`);
    for (const c of bridgeCommands(names, x)) runCommand(c);
    const subnet = labAddresses(x).subnet;
    const clash = hostCidrs().some((c) => c.dev !== names.bridge && c.cidr.startsWith(`${LAB_DEFAULTS.netPrefix}.${x}.`));
    if (!clash) return x;
    log(`network lab: ${subnet} was taken at the same time, trying another`);
    tryRun({ program: 'ip', args: ['link', 'del', 'dev', names.bridge] });
  }
  throw new Error('network lab: could not claim a subnet');
}
