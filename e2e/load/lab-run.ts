/**
 * The load tool's network lab: viewers' namespaces with their uplink caps and NATs, coturn on
 * the bridge when any viewer is behind a NAT (STUN for the cone ones, TURN for the rest), the
 * adapter options that hand pages its credentials, and what the run records of it.
 */
import type { AdapterOptions } from '../../origin-adapter/index.js';
import { startCoturn, type Turn } from '../lab/coturn.js';
import { createLab, type Lab } from '../lab/netlab.js';
import { timeUploads } from '../lab/uplink-check.js';
import { formatUplinks, type UplinkCap } from '../lab/uplink-spec.js';
import { chromiumPath } from '../support/browser.js';
import type { LabSummary } from './metrics.js';
import type { LoadOptions } from './options.js';

export interface OpenLab {
  readonly lab: Lab;
  readonly summary: LabSummary;
  /** coturn on the bridge (with NATs or relay-only viewers). */
  readonly turn: Turn | undefined;
}

/** Whether the run needs the lab: caps or NATs. */
export function wantsLab(o: Pick<LoadOptions, 'uplinkMbps' | 'nat'>): boolean {
  return o.uplinkMbps !== undefined || o.nat !== undefined;
}

/**
 * The lab for a run, with its caps checked by timing an upload from each capped viewer, and
 * coturn when a viewer needs it. `copies` 2: a second set of slots with the same caps and NATs,
 * for a baseline played at the same time.
 */
export async function openLab(o: LoadOptions, copies: 1 | 2 = 1): Promise<OpenLab> {
  if (o.url !== undefined) throw new Error('the network lab needs the embedded adapter (no url): viewers reach it on the lab bridge');
  const caps: readonly UplinkCap[] = o.uplinkMbps ?? Array.from({ length: o.viewers }, () => null);
  if (caps.length !== o.viewers) throw new Error(`${caps.length} uplink caps for ${o.viewers} viewers`);
  if (o.nat !== undefined && o.nat.length !== o.viewers) throw new Error(`${o.nat.length} NAT kinds for ${o.viewers} viewers`);
  // A bound on the lab's life: both runs, each with a generous margin for opening viewers and closing.
  const maxLifetimeSec = (o.durationSec + 300) * (o.baseline && copies === 1 ? 2 : 1);
  const repeat = <T>(xs: readonly T[]): T[] => Array.from({ length: copies }, () => xs).flat();
  const lab = createLab({ uplinkMbps: repeat(caps), ...(o.nat ? { nat: repeat(o.nat) } : {}), chromiumPath: chromiumPath(), maxLifetimeSec, log: o.progress });
  try {
    const nat = lab.viewers.slice(0, o.viewers).map((v) => v.nat);
    const natText = nat.some((k) => k !== null) ? `, NATs ${nat.map((k) => k ?? 'none').join(',')}` : '';
    const copiesText = copies === 2 ? ' (twice: the baseline plays in the second set of slots)' : '';
    o.progress(`network lab ${lab.id}: ${lab.subnet}, host ${lab.hostAddress}, uplinks ${formatUplinks(caps)} Mbit/s${natText}${copiesText}`);
    const turn = nat.some((k) => k !== null) || o.clientOptions?.['relayOnly'] === true ? await startCoturn(lab, o.progress) : undefined;
    const uplinkCheck = await timeUploads(lab);
    if (uplinkCheck.length > 0) o.progress(`uplink check (1 MB each): ${uplinkCheck.map((u) => `v${u.slot} ${u.seconds} s = ${u.mbps} Mbit/s`).join(', ')}`);
    return {
      lab,
      turn,
      summary: { id: lab.id, subnet: lab.subnet, qdisc: 'tbf', uplinkMbps: [...caps], uplinkCheck, nat, turn: turn !== undefined, udpBytes: [] },
    };
  } catch (e) {
    lab.destroy();
    throw e;
  }
}

/** The adapter in the lab: on the bridge, handing pages coturn's STUN and TURN with credentials of its own. */
export function labAdapterOptions(l: OpenLab): Partial<AdapterOptions> {
  return {
    host: l.lab.hostAddress,
    ...(l.turn ? { stunUrls: [l.turn.stunUrl], turnUrls: [l.turn.turnUrl], turnSecret: l.turn.secret } : {}),
  };
}

export type UdpBytes = LabSummary['udpBytes'];

/** UDP bytes each NATed viewer's router among `slots` forwarded so far, to the public host (adapter, TURN) and to other viewers. */
export function readUdpBytes(l: OpenLab | undefined, slots: { from: number; count: number }): UdpBytes {
  if (!l) return [];
  return l.lab.viewers.slice(slots.from, slots.from + slots.count).flatMap((v) => {
    const c = l.lab.natCounters(v.slot);
    return c ? [{ slot: v.slot - slots.from, toPublic: c.toPublic, toViewers: c.toViewers, directTo: c.directTo }] : [];
  });
}

/** The bytes of one run: the counters' growth between two readings. */
export function udpBytesDuring(before: UdpBytes, after: UdpBytes): UdpBytes {
  return after.map((a) => {
    const b = before.find((x) => x.slot === a.slot);
    return { slot: a.slot, toPublic: a.toPublic - (b?.toPublic ?? 0), toViewers: a.toViewers - (b?.toViewers ?? 0), directTo: a.directTo.filter((d) => !(b?.directTo ?? []).includes(d)) };
  });
}
