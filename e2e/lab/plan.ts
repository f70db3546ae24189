/**
 * The network lab as data: names, addresses and the `ip`/`tc` command lines that build and
 * remove it. Pure, so the exact commands are unit-tested; `netlab.ts` runs them.
 *
 * Topology: one Linux bridge on the host holds the lab's subnet's first address (where the
 * adapter listens). Each viewer is a network namespace joined to that bridge by a veth pair:
 * its end is `eth0` in the namespace, with the next address and a default route to the bridge
 * address, and a tbf qdisc on its egress (the viewer's uplink). Viewers reach each other
 * through the bridge (layer 2) and the host directly; nothing is routed: the host does not
 * forward, so the default route ends at the host. A viewer behind a NAT has a home router
 * namespace between it and the bridge instead (`nat-plan.ts`).
 */
import { ip, sysctl, tc, type Command } from './command.js';
import { NAT_LAN, routerCommands, type NatKind } from './nat-plan.js';
import type { UplinkCap } from './uplink-spec.js';

export const LAB_DEFAULTS = {
  /** Viewers (namespaces) one lab may hold. */
  maxViewers: 32,
  /** The lab's subnets are 10.213.X.0/24, one X per lab, chosen to overlap nothing on the host. */
  netPrefix: '10.213',
  /** tbf: the queue may hold this much delay at the cap before it drops (a home router's buffer, kept small). */
  tbfLatencyMs: 100,
  /** tbf bucket: this many seconds at the cap, at least `tbfMinBurstBytes` (above one MTU, and above rate/HZ). */
  tbfBurstSec: 0.01,
  tbfMinBurstBytes: 16 * 1024,
  /** Every `ip`/`tc` command is killed after this long. */
  commandTimeoutMs: 10_000,
} as const;

/** Who made a lab: a process, told apart from a later one with the same pid by its start time. */
export interface LabOwner {
  readonly pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks after boot). */
  readonly startTicks: number;
}

export interface LabNames {
  /** `rclab-PID-START-RAND`: every namespace's name starts with it; the bridge's and host veths' alias is it. */
  readonly tag: string;
  /** 5 characters [a-z0-9] in every link name of this lab. */
  readonly rand: string;
  readonly bridge: string;
  ns(slot: number): string;
  /** The home router namespace of a viewer behind a NAT. */
  router(slot: number): string;
  hostVeth(slot: number): string;
  /** The viewer's end of its veth, inside its namespace. */
  readonly viewerVeth: 'eth0';
}

const RAND = /^[a-z0-9]{5}$/;
/** Link names: `rclb` + rand (bridge), `rclh` + rand + slot (host ends of the veths); at most 15 characters. */
const LINK = /^rcl[bh]([a-z0-9]{5})\d*$/;
const TAG = /^rclab-(\d+)-(\d+)-([a-z0-9]{5})$/;
const NS = /^(rclab-\d+-\d+-[a-z0-9]{5})-[vr](\d+)$/;

export function labNames(owner: LabOwner, rand: string): LabNames {
  if (!RAND.test(rand)) throw new Error(`lab rand must match ${String(RAND)}: ${rand}`);
  const tag = `rclab-${owner.pid}-${owner.startTicks}-${rand}`;
  return {
    tag,
    rand,
    bridge: `rclb${rand}`,
    ns: (slot) => `${tag}-v${slot}`,
    router: (slot) => `${tag}-r${slot}`,
    hostVeth: (slot) => `rclh${rand}${slot}`,
    viewerVeth: 'eth0',
  };
}

/** The owner and rand of a lab tag (a namespace name's prefix, a link's alias). */
export function parseTag(tag: string): { owner: LabOwner; rand: string } | undefined {
  const m = TAG.exec(tag);
  return m ? { owner: { pid: Number(m[1]), startTicks: Number(m[2]) }, rand: m[3] ?? '' } : undefined;
}

/** The lab tag of one of its namespaces. */
export function tagOfNamespace(ns: string): string | undefined {
  return NS.exec(ns)?.[1];
}

/** The rand of one of a lab's links (bridge or host veth). */
export function randOfLink(name: string): string | undefined {
  return LINK.exec(name)?.[1];
}

/**
 * Addresses of the lab's subnet 10.213.X.0/24: the host's (bridge) is .1, viewer `slot` (or its
 * router, behind a NAT) is .(slot + 2).
 */
export function labAddresses(x: number): { subnet: string; host: string; viewer(slot: number): string } {
  if (!Number.isInteger(x) || x < 0 || x > 255) throw new Error(`lab subnet index must be 0..255: ${x}`);
  const base = `${LAB_DEFAULTS.netPrefix}.${x}`;
  return { subnet: `${base}.0/24`, host: `${base}.1`, viewer: (slot) => `${base}.${slot + 2}` };
}

/** tbf arguments for a cap in Mbit/s. */
export function tbfArgs(mbps: number): string[] {
  const bitsPerSec = Math.round(mbps * 1e6);
  const burst = Math.max(LAB_DEFAULTS.tbfMinBurstBytes, Math.round((bitsPerSec / 8) * LAB_DEFAULTS.tbfBurstSec));
  return ['tbf', 'rate', `${bitsPerSec}bit`, 'burst', String(burst), 'latency', `${LAB_DEFAULTS.tbfLatencyMs}ms`];
}

export type { Command } from './command.js';

/**
 * The namespaces first: their names carry the owner, so a stale-lab sweep that finds this lab's
 * links before their alias is set still sees the owner alive through them.
 */
export function namespaceCommands(n: LabNames, slots: number, nat: readonly (NatKind | null)[] = []): Command[] {
  return Array.from({ length: slots }, (_, s) => [ip('netns', 'add', n.ns(s)), ...(nat[s] ? [ip('netns', 'add', n.router(s))] : [])]).flat();
}

export function bridgeCommands(n: LabNames, x: number): Command[] {
  const a = labAddresses(x);
  return [
    ip('link', 'add', n.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'),
    ip('link', 'set', 'dev', n.bridge, 'alias', n.tag),
    // No IPv6 on the lab's links (no link-local candidates, nothing to route), and never forward from the bridge.
    sysctl(`net/ipv6/conf/${n.bridge}/disable_ipv6`, '1'),
    sysctl(`net/ipv4/conf/${n.bridge}/forwarding`, '0'),
    ip('addr', 'add', `${a.host}/24`, 'dev', n.bridge),
    ip('link', 'set', 'dev', n.bridge, 'up'),
  ];
}

/**
 * One viewer: its veth pair into the bridge (or, behind a NAT, into its router), address,
 * default route (to the host, or to its router), and its uplink cap.
 */
export function viewerCommands(n: LabNames, x: number, slot: number, cap: UplinkCap, nat: NatKind | null = null): Command[] {
  const a = labAddresses(x);
  const ns = n.ns(slot);
  const hv = n.hostVeth(slot);
  const v = n.viewerVeth;
  const link =
    nat === null
      ? [
          ip('link', 'add', hv, 'type', 'veth', 'peer', 'name', v, 'netns', ns),
          ip('link', 'set', 'dev', hv, 'alias', n.tag),
          sysctl(`net/ipv6/conf/${hv}/disable_ipv6`, '1'),
          ip('link', 'set', 'dev', hv, 'master', n.bridge),
          ip('link', 'set', 'dev', hv, 'up'),
          sysctl('net/ipv6/conf/all/disable_ipv6', '1', ns),
          sysctl('net/ipv6/conf/default/disable_ipv6', '1', ns),
        ]
      : routerCommands({ bridge: n.bridge, tag: n.tag, hostVeth: hv, router: n.router(slot), viewer: ns }, a.viewer(slot), a.host);
  const address = nat === null ? `${a.viewer(slot)}/24` : `${NAT_LAN.viewer}/${NAT_LAN.prefix}`;
  const gateway = nat === null ? a.host : NAT_LAN.router;
  return [
    ...link,
    ip('-n', ns, 'link', 'set', 'dev', 'lo', 'up'),
    ip('-n', ns, 'addr', 'add', address, 'dev', v),
    ip('-n', ns, 'link', 'set', 'dev', v, 'up'),
    // Chromium gathers ICE candidates only with a default route; this one ends at the host (or the router).
    ip('-n', ns, 'route', 'add', 'default', 'via', gateway, 'dev', v),
    ...(cap === null ? [] : [tc('-n', ns, 'qdisc', 'add', 'dev', v, 'root', ...tbfArgs(cap))]),
  ];
}

/**
 * Removal, in an order that works from any partial state (each command may fail because its
 * object does not exist): a host veth takes its namespace end (and that end's qdisc) with it,
 * then the namespaces (viewers' and routers'), then the bridge. Processes still inside a namespace are killed before
 * (by the runner), so the namespace goes away at once.
 */
export function teardownCommands(n: LabNames, slots: number): Command[] {
  return [
    ...Array.from({ length: slots }, (_, s) => ip('link', 'del', 'dev', n.hostVeth(s))),
    ...Array.from({ length: slots }, (_, s) => ip('netns', 'del', n.ns(s))),
    ...Array.from({ length: slots }, (_, s) => ip('netns', 'del', n.router(s))),
    ip('link', 'del', 'dev', n.bridge),
  ];
}

/** [network, prefix length] of an IPv4 CIDR (a bare address is /32); undefined if it is not one. */
export function parseCidr(cidr: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const len = m[5] === undefined ? 32 : Number(m[5]);
  if (octets.some((o) => o > 255) || len > 32) return undefined;
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - len);
  return [addr - (addr % size), len];
}

/** Whether two IPv4 CIDRs share an address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const pa = parseCidr(a);
  const pb = parseCidr(b);
  if (!pa || !pb) return false;
  const shorter = Math.min(pa[1], pb[1]);
  const size = 2 ** (32 - shorter);
  return Math.floor(pa[0] / size) === Math.floor(pb[0] / size);
}

/**
 * Subnet indexes X whose 10.213.X.0/24 overlaps none of the host's addresses and routes
 * (the default route, which covers everything, excepted).
 */
export function freeSubnets(used: readonly string[]): number[] {
  const specific = used.filter((c) => parseCidr(c)?.[1] !== 0);
  return Array.from({ length: 256 }, (_, x) => x).filter((x) => !specific.some((c) => cidrsOverlap(labAddresses(x).subnet, c)));
}
