/**
 * The ICE servers a page's connections use: the configured ones (`iceServers`) and what the
 * adapter hands out at `iceUrl` (STUN, and TURN with a credential that expires: origin-adapter/
 * ice.ts). Fetched once before signaling starts, again at half the credential's lifetime; a
 * failed or absent answer leaves the configured servers, so P2P on a LAN needs none.
 */
import { isRecord } from '../../protocol/guards.js';

export const ICE_FETCH = {
  timeoutMs: 3000,
  /** Refetch at this share of the credential's lifetime. */
  refreshShare: 0.5,
  minRefreshMs: 30_000,
  /** Retry after a failed fetch (the servers of before stay in use). */
  retryMs: 60_000,
  maxServers: 8,
  maxUrlChars: 256,
} as const;

export type FetchFn = (url: string, init: { signal: AbortSignal; cache: RequestCache; credentials: RequestCredentials }) => Promise<Response>;

/** The servers in an answer of GET /relaycast/ice, or undefined when it is not one. Bad entries are dropped. */
export function parseIceAnswer(body: unknown): { servers: RTCIceServer[]; ttlSec: number | undefined } | undefined {
  if (!isRecord(body) || !Array.isArray(body['iceServers'])) return undefined;
  const servers: RTCIceServer[] = [];
  for (const s of body['iceServers'].slice(0, ICE_FETCH.maxServers)) {
    if (!isRecord(s)) continue;
    const raw = s['urls'];
    const urls = (Array.isArray(raw) ? raw : [raw]).filter(
      (u): u is string => typeof u === 'string' && u.length <= ICE_FETCH.maxUrlChars && /^(stuns?|turns?):/.test(u),
    );
    if (urls.length === 0) continue;
    const { username, credential } = s;
    if (username !== undefined || credential !== undefined) {
      if (typeof username !== 'string' || typeof credential !== 'string') continue;
      servers.push({ urls, username, credential });
    } else {
      servers.push({ urls });
    }
  }
  const ttl = body['ttlSec'];
  return { servers, ttlSec: typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0 ? ttl : undefined };
}

export class IceConfig {
  private fetched: RTCIceServer[] = [];
  private loading: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  /** `onChange`: new servers arrived (for connections made from now on). */
  constructor(
    private readonly configured: readonly RTCIceServer[],
    private readonly url: string | null,
    private readonly fetchFn: FetchFn,
    private readonly onChange: () => void,
  ) {}

  /** The servers for a new connection. */
  get servers(): RTCIceServer[] {
    return [...this.configured, ...this.fetched];
  }

  /** The first fetch (once; later calls wait for the same one). Never rejects. */
  ready(): Promise<void> {
    this.loading ??= this.load();
    return this.loading;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async load(): Promise<void> {
    if (this.url === null || this.stopped) return;
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), ICE_FETCH.timeoutMs);
    let next: number = ICE_FETCH.retryMs;
    try {
      const res = await this.fetchFn(this.url, { signal: ctl.signal, cache: 'no-store', credentials: 'omit' });
      const parsed = res.ok ? parseIceAnswer(await res.json()) : undefined;
      if (parsed) {
        this.fetched = parsed.servers;
        // Without TURN there is nothing to renew.
        next = parsed.ttlSec === undefined ? 0 : Math.max(ICE_FETCH.minRefreshMs, parsed.ttlSec * 1000 * ICE_FETCH.refreshShare);
        this.onChange();
      } else if (res.status === 404) {
        next = 0; // An adapter without the route, or another signaling server: the configured servers only.
      }
    } catch {
      // Unreachable or slow: keep what we have and try again later.
    } finally {
      clearTimeout(t);
    }
    if (next > 0 && !this.stopped) this.timer = setTimeout(() => void this.load(), next);
  }
}
