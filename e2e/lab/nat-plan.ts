/**
 * Home routers for the network lab, as data (`plan.ts` has the rest of the topology).
 *
 * A viewer behind a NAT sits in its namespace on a home LAN (every home the same
 * 192.168.77.0/24, as on the internet) whose only gateway is a router namespace. The router's
 * WAN end is joined to the lab's bridge (its address is the viewer's public address) and
 * masquerades what leaves it:
 *
 * - `cone`: nftables `masquerade` keeps a flow's source port where it can, so one inside port
 *   maps to one outside port whatever the destination (endpoint-independent mapping, as most
 *   home routers); STUN's server-reflexive candidate is then the address other viewers reach.
 * - `symmetric`: `masquerade fully-random` gives every new flow (each destination) a random
 *   outside port, so the port STUN saw is not the one a peer would see: only a TURN relay
 *   connects such a viewer to another NAT.
 *
 * Both filter as home routers do: nothing new comes in from the WAN, neither to the router
 * (which also keeps an unsolicited packet from claiming the port a hole punch needs) nor to
 * the LAN; nothing goes out but to the lab's subnet. Two named counters in the router's forward path count the UDP bytes its viewer
 * sends to the public host (the adapter and TURN server) and to anywhere else (another
 * viewer's router: a direct link).
 */
import { ip, sysctl, type Command } from './command.js';

export type NatKind = 'cone' | 'symmetric';

export const NAT_LAN = {
  router: '192.168.77.1',
  viewer: '192.168.77.2',
  prefix: 24,
  /** The router's LAN link (its WAN link is `eth0`, like a plain viewer's). */
  lanLink: 'lan0',
} as const;

/** The router's nftables table: its counters are read by name (`natCounterArgs`). */
export const NAT_TABLE = 'rclab_nat';

/** `ip netns exec NS nft -f -` with `script` on stdin. */
export interface NftCommand {
  readonly nft: string;
  readonly script: string;
}

const NAT_KINDS: readonly NatKind[] = ['cone', 'symmetric'];

export function isNatKind(x: unknown): x is NatKind {
  return NAT_KINDS.some((k) => k === x);
}

/**
 * The load tool's `--nat` value: `cone` or `symmetric` for every viewer, `mixed` (every third
 * viewer symmetric, the rest cone: 2 of 6), or one kind per viewer (`cone,symmetric,off`;
 * `off` is a viewer on the bridge without a NAT).
 */
export function parseNatSpec(spec: string, viewers: number): (NatKind | null)[] | { error: string } {
  const s = spec.trim();
  if (s === 'cone' || s === 'symmetric') return Array.from({ length: viewers }, () => s);
  if (s === 'mixed') return Array.from({ length: viewers }, (_, i) => (i % 3 === 2 ? 'symmetric' : 'cone'));
  const items = s.split(',').map((x) => x.trim());
  if (items.length !== viewers) return { error: `--nat lists ${items.length} kinds for ${viewers} viewers (or use cone, symmetric or mixed)` };
  const out: (NatKind | null)[] = [];
  for (const item of items) {
    if (item === 'off') out.push(null);
    else if (isNatKind(item)) out.push(item);
    else return { error: `"${item}" is not a NAT kind (cone, symmetric, off)` };
  }
  return out;
}

/**
 * The router's rules. `publicHost`: the bridge address where the adapter and the TURN server
 * listen; `subnet`: the lab's (the bridge's) subnet. What is addressed elsewhere (a page's DNS
 * lookups through the host's resolver, say) is dropped at the router.
 */
export function natRuleset(kind: NatKind, publicHost: string, subnet: string): string {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(publicHost)) throw new Error(`not an IPv4 address: ${publicHost}`);
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(subnet)) throw new Error(`not an IPv4 subnet: ${subnet}`);
  const masquerade = kind === 'symmetric' ? 'masquerade fully-random' : 'masquerade';
  return [
    `table ip ${NAT_TABLE} {`,
    '  counter to_public { }',
    '  counter to_viewers { }',
    // Where direct UDP went (address:port), for a look at what bypassed the public host.
    '  set direct { type ipv4_addr . inet_service; size 64; flags dynamic; }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    oifname "eth0" ${masquerade}`,
    '  }',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    iifname "eth0" ct state new drop',
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    iifname "eth0" ct state new drop',
    `    oifname "eth0" ip daddr != ${subnet} drop`,
    `    oifname "eth0" ip daddr ${publicHost} meta l4proto udp counter name to_public`,
    `    oifname "eth0" ip daddr != ${publicHost} meta l4proto udp counter name to_viewers add @direct { ip daddr . udp dport }`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** nft arguments that print the router's counters as JSON. */
export function natCounterArgs(): string[] {
  return ['-j', 'list', 'table', 'ip', NAT_TABLE];
}

/** Bytes of the router's named counters in `nft -j list table` output. */
export function parseNatCounters(json: string): { toPublic: number; toViewers: number; directTo: string[] } | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  const items = typeof raw === 'object' && raw !== null ? (raw as { nftables?: unknown }).nftables : undefined;
  if (!Array.isArray(items)) return undefined;
  const bytes = new Map<string, number>();
  const directTo: string[] = [];
  for (const it of items) {
    const set = typeof it === 'object' && it !== null ? (it as { set?: unknown }).set : undefined;
    if (typeof set === 'object' && set !== null && (set as { name?: unknown }).name === 'direct') {
      const elems = (set as { elem?: unknown }).elem;
      for (const e of Array.isArray(elems) ? elems : []) {
        const concat = typeof e === 'object' && e !== null ? (e as { concat?: unknown }).concat : undefined;
        if (Array.isArray(concat) && concat.length === 2) directTo.push(`${String(concat[0])}:${String(concat[1])}`);
      }
    }
    const c = typeof it === 'object' && it !== null ? (it as { counter?: unknown }).counter : undefined;
    if (typeof c !== 'object' || c === null) continue;
    const { name, bytes: b } = c as { name?: unknown; bytes?: unknown };
    if (typeof name === 'string' && typeof b === 'number') bytes.set(name, b);
  }
  const toPublic = bytes.get('to_public');
  const toViewers = bytes.get('to_viewers');
  return toPublic === undefined || toViewers === undefined ? undefined : { toPublic, toViewers, directTo };
}

interface RouterNames {
  readonly bridge: string;
  readonly tag: string;
  readonly hostVeth: string;
  readonly router: string;
  readonly viewer: string;
}


/**
 * One viewer behind a router: the router's WAN veth into the bridge at `wanAddress`, its LAN
 * veth to the viewer's namespace, forwarding on inside the router only (its default route
 * ends at the host, which does not forward). The viewer's own address, route and cap follow
 * (`viewerCommands`' LAN variant); the rules are `natRuleset`, loaded after.
 */
export function routerCommands(n: RouterNames, wanAddress: string, hostAddress: string): Command[] {
  const r = n.router;
  return [
    ip('link', 'add', n.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', r),
    ip('link', 'set', 'dev', n.hostVeth, 'alias', n.tag),
    { sysctl: `net/ipv6/conf/${n.hostVeth}/disable_ipv6`, value: '1' },
    ip('link', 'set', 'dev', n.hostVeth, 'master', n.bridge),
    ip('link', 'set', 'dev', n.hostVeth, 'up'),
    sysctl('net/ipv6/conf/all/disable_ipv6', '1', r),
    sysctl('net/ipv6/conf/default/disable_ipv6', '1', r),
    ip('-n', r, 'link', 'set', 'dev', 'lo', 'up'),
    ip('-n', r, 'addr', 'add', `${wanAddress}/24`, 'dev', 'eth0'),
    ip('-n', r, 'link', 'set', 'dev', 'eth0', 'up'),
    ip('-n', r, 'route', 'add', 'default', 'via', hostAddress, 'dev', 'eth0'),
    sysctl('net/ipv6/conf/all/disable_ipv6', '1', n.viewer),
    sysctl('net/ipv6/conf/default/disable_ipv6', '1', n.viewer),
    ip('-n', r, 'link', 'add', NAT_LAN.lanLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.viewer),
    ip('-n', r, 'addr', 'add', `${NAT_LAN.router}/${NAT_LAN.prefix}`, 'dev', NAT_LAN.lanLink),
    ip('-n', r, 'link', 'set', 'dev', NAT_LAN.lanLink, 'up'),
    sysctl('net/ipv4/ip_forward', '1', r),
  ];
}
