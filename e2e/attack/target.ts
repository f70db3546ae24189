/**
 * The attack suite's target: refused unless it is on this machine's loopback, and what the
 * suite learns of it (the stream's swarm ids, a segment, the VOD file) from its public routes.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { get } from './net.js';

function isLoopbackIp(ip: string): boolean {
  if (isIP(ip) === 4) return ip.startsWith('127.');
  return ip === '::1' || ip === '0:0:0:0:0:0:0:1' || ip.startsWith('::ffff:127.');
}

/** The target's origin if it is an http URL on loopback; a reason otherwise. */
export async function loopbackTarget(raw: string): Promise<{ ok: true; url: URL; ipv4: boolean } | { ok: false; reason: string }> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `not a URL: ${raw}` };
  }
  if (url.protocol !== 'http:') return { ok: false, reason: 'only http:// targets on loopback are attacked' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let ips: string[];
  try {
    ips = isIP(host) !== 0 ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return { ok: false, reason: `cannot resolve ${host}` };
  }
  if (ips.length === 0 || !ips.every(isLoopbackIp)) return { ok: false, reason: `${host} is not a loopback address (${ips.join(', ')}): refusing to attack it` };
  return { ok: true, url: new URL(url.origin), ipv4: ips.every((ip) => isIP(ip) === 4) };
}

export interface Discovered {
  /** Swarm ids of the stream (media playlist URLs), as pages compute them. */
  readonly swarms: string[];
  /** A media playlist and a segment it lists (absolute URLs). */
  readonly playlist?: string;
  readonly segment?: string;
  /** The embedded VOD file, when there is one. */
  readonly vodFile?: string;
}

/** Follows `/` -> /watch/<stream> -> /live/<stream>/master.m3u8 -> its media playlists (the embedded adapter's layout). */
export async function discover(base: URL, localAddress: string | undefined, manifest?: string): Promise<Discovered> {
  let master = manifest;
  let stream: string | undefined;
  if (master === undefined) {
    const root = await get(new URL('/', base), { localAddress }).catch(() => undefined);
    stream = /^\/watch\/([A-Za-z0-9_-]+)$/.exec(String(root?.headers.location ?? ''))?.[1];
    if (stream === undefined) return { swarms: [] };
    master = new URL(`/live/${stream}/master.m3u8`, base).href;
  }
  const text = (await get(new URL(master), { localAddress }).catch(() => undefined))?.body.toString('utf8') ?? '';
  const uris = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const media = /#EXTINF/.test(text) ? [master] : uris.map((u) => new URL(u, master).href);
  const swarms = media.slice(0, 4);
  let segment: string | undefined;
  const first = swarms[0];
  if (first !== undefined) {
    const pl = (await get(new URL(first), { localAddress }).catch(() => undefined))?.body.toString('utf8') ?? '';
    const segs = pl.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
    const last = segs[segs.length - 1];
    if (last !== undefined) segment = new URL(last, first).href;
  }
  return {
    swarms,
    ...(first !== undefined ? { playlist: first } : {}),
    ...(segment !== undefined ? { segment } : {}),
    ...(stream !== undefined ? { vodFile: new URL(`/vod/${stream}/vod-0.mp4`, base).href } : {}),
  };
}
