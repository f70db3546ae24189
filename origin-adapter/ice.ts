/**
 * ICE servers for pages: STUN URLs as configured, TURN with short-lived credentials from
 * coturn's shared-secret REST scheme (`use-auth-secret` / `static-auth-secret`): the username
 * is the expiry time in Unix seconds and a label, the password base64(HMAC-SHA1(secret,
 * username)). coturn checks both without a user database; a page never sees a long-lived
 * password, and a leaked credential stops working at its expiry.
 *
 * Also what the signaling server counts of relayed candidates: the type of each ICE candidate
 * (host, srflx, prflx, relay) in CANDIDATE messages and in SDP, so an operator can check that a
 * relay-only deployment never passes a viewer's own address.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { isRecord } from '../protocol/guards.js';

export interface IceOptions {
  readonly stunUrls: readonly string[];
  readonly turnUrls: readonly string[];
  /** coturn's `static-auth-secret`; required with `turnUrls`. */
  readonly turnSecret: string | undefined;
  /** Lifetime of a TURN credential. */
  readonly turnTtlSec: number;
}

export interface IceServer {
  readonly urls: string[];
  readonly username?: string;
  readonly credential?: string;
}

export interface IceAnswer {
  readonly iceServers: IceServer[];
  /** Seconds until the TURN credentials expire (pages fetch new ones at half of it); absent without TURN. */
  readonly ttlSec?: number;
}

export const ICE_LIMITS = {
  minTtlSec: 60,
  maxTtlSec: 7 * 24 * 3600,
  maxUrls: 8,
  urlChars: 256,
  minSecretChars: 16,
} as const;

const STUN_URL = /^stuns?:[A-Za-z0-9.\-[\]:]+(\?transport=(udp|tcp))?$/;
const TURN_URL = /^turns?:[A-Za-z0-9.\-[\]:]+(\?transport=(udp|tcp))?$/;

/** Why these ICE options are wrong, or null. */
export function iceOptionsError(o: IceOptions): string | null {
  const check = (urls: readonly string[], re: RegExp, what: string): string | null => {
    if (urls.length > ICE_LIMITS.maxUrls) return `at most ${ICE_LIMITS.maxUrls} ${what} URLs`;
    const bad = urls.find((u) => u.length > ICE_LIMITS.urlChars || !re.test(u));
    return bad === undefined ? null : `not a ${what} URL (${what}:HOST:PORT[?transport=udp|tcp]): ${bad}`;
  };
  const e = check(o.stunUrls, STUN_URL, 'stun') ?? check(o.turnUrls, TURN_URL, 'turn');
  if (e !== null) return e;
  if (o.turnUrls.length > 0 && o.turnSecret === undefined) return 'turnUrls need turnSecret (coturn static-auth-secret)';
  if (o.turnSecret !== undefined && o.turnSecret.length < ICE_LIMITS.minSecretChars) return `turnSecret must have at least ${ICE_LIMITS.minSecretChars} characters`;
  if (o.turnSecret !== undefined && o.turnUrls.length === 0) return 'turnSecret needs at least one turnUrl';
  if (!Number.isInteger(o.turnTtlSec) || o.turnTtlSec < ICE_LIMITS.minTtlSec || o.turnTtlSec > ICE_LIMITS.maxTtlSec) {
    return `turnTtlSec must be an integer ${ICE_LIMITS.minTtlSec}..${ICE_LIMITS.maxTtlSec}`;
  }
  return null;
}

/** coturn's REST credential for a username. */
export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/** The answer of GET /relaycast/ice at `nowMs`: a fresh credential for each request. */
export function iceAnswer(o: IceOptions, nowMs: number, label: string = randomBytes(6).toString('hex')): IceAnswer {
  const servers: IceServer[] = o.stunUrls.length > 0 ? [{ urls: [...o.stunUrls] }] : [];
  if (o.turnUrls.length === 0 || o.turnSecret === undefined) return { iceServers: servers };
  const expiry = Math.floor(nowMs / 1000) + o.turnTtlSec;
  const username = `${expiry}:${label}`;
  return { iceServers: [...servers, { urls: [...o.turnUrls], username, credential: turnPassword(o.turnSecret, username) }], ttlSec: o.turnTtlSec };
}

export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';
export type CandidateCounts = Record<CandidateType, number>;

export function noCandidates(): CandidateCounts {
  return { host: 0, srflx: 0, prflx: 0, relay: 0 };
}

const TYP = /(?:^|\s)typ\s+(host|srflx|prflx|relay)(?:\s|$)/;

/** The type of one candidate line (`candidate:… typ srflx …`), or undefined. */
export function candidateType(line: string): CandidateType | undefined {
  const m = TYP.exec(line);
  return m ? (m[1] as CandidateType) : undefined;
}

/** Adds the candidates a PeerJS OFFER, ANSWER or CANDIDATE payload carries to `into`. */
export function countCandidates(type: string, payload: unknown, into: CandidateCounts): void {
  if (!isRecord(payload)) return;
  const add = (line: string): void => {
    const t = candidateType(line);
    if (t !== undefined) into[t]++;
  };
  if (type === 'CANDIDATE') {
    const c = payload['candidate'];
    if (isRecord(c) && typeof c['candidate'] === 'string') add(c['candidate']);
    return;
  }
  const sdp = payload['sdp'];
  const text = isRecord(sdp) ? sdp['sdp'] : undefined;
  if (typeof text !== 'string') return;
  for (const line of text.split(/\r?\n/)) if (line.startsWith('a=candidate:')) add(line.slice(2));
}
