/**
 * The network lab (Linux, root): viewers in their own network namespaces on one host bridge,
 * each with a tbf cap on its uplink (`plan.ts` has the topology and the exact commands).
 *
 * Every object the lab creates carries its owner (pid and start time) in its name or alias, so
 * `cleanStaleLabs` removes what a crashed or killed run left and never touches a lab whose
 * process still runs. A lab is torn down by `destroy()`, and also on SIGINT/SIGTERM and at
 * process exit; a watchdog tears it down after `maxLifetimeSec`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  bridgeCommands,
  freeSubnets,
  LAB_DEFAULTS,
  labAddresses,
  labNames,
  namespaceCommands,
  parseTag,
  randOfLink,
  tagOfNamespace,
  teardownCommands,
  viewerCommands,
  type Command,
  type LabNames,
  type LabOwner,
} from './plan.js';
import type { UplinkCap } from './uplink-spec.js';

export interface LabViewer {
  readonly slot: number;
  readonly ns: string;
  readonly address: string;
  readonly uplinkMbps: UplinkCap;
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
  /** Kills what runs in the namespaces, removes every namespace, link and qdisc. Idempotent, synchronous. */
  destroy(): void;
}

export interface LabOptions {
  /** One entry per viewer namespace. */
  readonly uplinkMbps: readonly UplinkCap[];
  /** The Chromium the wrappers run (default: CHROMIUM_PATH or /usr/bin/chromium). */
  readonly chromiumPath: string;
  /** The lab is torn down (and the process exits) if it lives longer than this. */
  readonly maxLifetimeSec: number;
  readonly log: (line: string) => void;
}

function findBinary(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

let bins: { ip: string; tc: string } | undefined;
function binaries(): { ip: string; tc: string } {
  if (bins) return bins;
  const ip = findBinary('ip');
  const tc = findBinary('tc');
  if (!ip || !tc) throw new Error('the network lab needs iproute2 (ip and tc)');
  bins = { ip, tc };
  return bins;
}

/** The `ip` binary the lab uses. */
export function ipBinary(): string {
  return binaries().ip;
}

function exec(bin: string, args: readonly string[]): string {
  return execFileSync(bin, args, { encoding: 'utf8', timeout: LAB_DEFAULTS.commandTimeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

function errText(e: unknown): string {
  const stderr = (e as { stderr?: unknown }).stderr;
  return (typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

/** Runs one step; throws with the command line and its stderr. */
function runCommand(c: Command): void {
  const b = binaries();
  try {
    if ('program' in c) {
      exec(c.program === 'ip' ? b.ip : b.tc, c.args);
    } else if (c.ns === undefined) {
      writeFileSync(join('/proc/sys', c.sysctl), c.value);
    } else {
      // /proc/sys/net shows the namespace of the process that reads it.
      exec(b.ip, ['netns', 'exec', c.ns, 'sh', '-c', 'printf %s "$1" > "/proc/sys/$0"', c.sysctl, c.value]);
    }
  } catch (e) {
    const what = 'program' in c ? `${c.program} ${c.args.join(' ')}` : `sysctl ${c.sysctl}=${c.value}${c.ns ? ` in ${c.ns}` : ''}`;
    throw new Error(`network lab: ${what}: ${errText(e)}`);
  }
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

/** pid and start time of a process, or undefined when it does not run. */
function processOwner(pid: number): LabOwner | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, startTicks: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

function selfOwner(): LabOwner {
  const o = processOwner(process.pid);
  if (!o) throw new Error('network lab: cannot read /proc/self/stat');
  return o;
}

function ownerAlive(o: LabOwner): boolean {
  const now = processOwner(o.pid);
  return now !== undefined && now.startTicks === o.startTicks;
}

interface LinkInfo {
  readonly name: string;
  readonly alias: string | undefined;
  readonly kind: string | undefined;
}

function listLinks(): LinkInfo[] {
  const raw: unknown = JSON.parse(exec(binaries().ip, ['-j', '-d', 'link', 'show']) || '[]');
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((l: unknown): LinkInfo[] => {
    if (typeof l !== 'object' || l === null) return [];
    const r = l as Record<string, unknown>;
    const info = r['linkinfo'];
    const kind = typeof info === 'object' && info !== null ? (info as Record<string, unknown>)['info_kind'] : undefined;
    return typeof r['ifname'] === 'string'
      ? [{ name: r['ifname'], alias: typeof r['ifalias'] === 'string' ? r['ifalias'] : undefined, kind: typeof kind === 'string' ? kind : undefined }]
      : [];
  });
}

function listNamespaces(): string[] {
  const raw: unknown = JSON.parse(exec(binaries().ip, ['-j', 'netns', 'list']) || '[]');
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((n: unknown) => {
    const name = typeof n === 'object' && n !== null ? (n as Record<string, unknown>)['name'] : undefined;
    return typeof name === 'string' ? [name] : [];
  });
}

/** Kills every process inside a namespace (only the lab's own: a lab namespace runs nothing else). */
function killNamespace(ns: string): void {
  let pids: number[] = [];
  try {
    pids = exec(binaries().ip, ['netns', 'pids', ns]).split(/\s+/).filter((p) => /^\d+$/.test(p)).map(Number);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function tryRun(c: Command): void {
  try {
    runCommand(c);
  } catch {
    // Removal from a partial state: the object may not exist.
  }
}

/** Namespaces, links and the wrappers' directory of the lab tagged `tag` that still exist. */
export function labLeftovers(tag: string): string[] {
  const rand = parseTag(tag)?.rand;
  const ns = listNamespaces().filter((n) => tagOfNamespace(n) === tag);
  const links = listLinks().filter((l) => l.alias === tag || (rand !== undefined && randOfLink(l.name) === rand));
  const dir = join(tmpdir(), tag);
  return [...ns, ...links.map((l) => l.name), ...(existsSync(dir) ? [dir] : [])];
}

/**
 * Removes every lab whose owning process is gone (a crashed, killed or interrupted run):
 * its namespaces (after killing what runs in them), its bridge and veths and its Chromium
 * wrappers' directory. Labs of running
 * processes are left alone. Returns the names removed.
 */
export function cleanStaleLabs(): string[] {
  const namespaces = listNamespaces();
  const links = listLinks();
  const liveRands = new Set<string>();
  const staleNs: string[] = [];
  for (const ns of namespaces) {
    const tag = tagOfNamespace(ns);
    const parsed = tag === undefined ? undefined : parseTag(tag);
    if (!parsed) continue;
    if (ownerAlive(parsed.owner)) liveRands.add(parsed.rand);
    else staleNs.push(ns);
  }
  for (const l of links) {
    const parsed = l.alias === undefined ? undefined : parseTag(l.alias);
    if (parsed && ownerAlive(parsed.owner)) liveRands.add(parsed.rand);
  }
  // A lab link is stale when nothing alive claims its rand: not its alias, not a namespace of the same lab.
  const staleLinks = links.filter((l) => {
    const rand = randOfLink(l.name);
    if (rand === undefined || liveRands.has(rand)) return false;
    const parsed = l.alias === undefined ? undefined : parseTag(l.alias);
    if (l.alias !== undefined && (!parsed || parsed.rand !== rand)) return false; // someone else's link that happens to match
    return l.kind === 'veth' || l.kind === 'bridge';
  });
  const staleDirs = readdirSync(tmpdir()).filter((d) => {
    const parsed = parseTag(d);
    return parsed !== undefined && !ownerAlive(parsed.owner);
  });
  for (const d of staleDirs) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  for (const ns of staleNs) killNamespace(ns);
  // veths before namespaces before bridges, as in teardownCommands.
  for (const l of staleLinks.filter((x) => x.kind === 'veth')) tryRun({ program: 'ip', args: ['link', 'del', 'dev', l.name] });
  for (const ns of staleNs) tryRun({ program: 'ip', args: ['netns', 'del', ns] });
  for (const l of staleLinks.filter((x) => x.kind === 'bridge')) tryRun({ program: 'ip', args: ['link', 'del', 'dev', l.name] });
  return [...staleNs, ...staleLinks.map((l) => l.name), ...staleDirs.map((d) => join(tmpdir(), d))];
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
  const stale = cleanStaleLabs();
  if (stale.length > 0) o.log(`network lab: removed a stale lab's ${stale.join(', ')}`);

  const names: LabNames = labNames(selfOwner(), randomBytes(8).readBigUInt64BE().toString(36).slice(-5).padStart(5, '0'));
  // The Chromium wrappers' directory is named by the tag too, so a stale sweep finds it.
  const dir = join(tmpdir(), names.tag);
  mkdirSync(dir, { mode: 0o700 });
  let destroyed = false;
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
    for (let s = 0; s < slots; s++) killNamespace(names.ns(s));
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
    for (const c of namespaceCommands(names, slots)) runCommand(c);
    const x = pickSubnet(names, o.log);
    const a = labAddresses(x);
    for (let s = 0; s < slots; s++) for (const c of viewerCommands(names, x, s, o.uplinkMbps[s] ?? null)) runCommand(c);
    const ip = binaries().ip;
    const viewers = o.uplinkMbps.map((cap, slot): LabViewer => {
      const chromium = join(dir, `chromium-v${slot}`);
      writeFileSync(chromium, wrapperScript(ip, names.ns(slot), o.chromiumPath));
      chmodSync(chromium, 0o755);
      return { slot, ns: names.ns(slot), address: a.viewer(slot), uplinkMbps: cap, chromium };
    });
    return { id: names.tag, subnet: a.subnet, hostAddress: a.host, viewers, destroy };
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
