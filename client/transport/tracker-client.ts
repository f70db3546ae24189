import { DEFAULT_TRACKER_URL } from '../config.js';
import { urlList } from './signal-endpoint.js';
import { parseTrackerPeers, type TrackerAnnounce, type TrackerPeers } from '../../protocol/tracker.js';

export interface TrackerHandler {
  onPeers(answer: TrackerPeers): void;
  onError(message: string): void;
}

const RETRY_MS = 5000;
const REQUEST_TIMEOUT_MS = 5000;
/** Retry on another tracker of the list that was not tried since the last success. */
const SWITCH_RETRY_MS = 1000;

/**
 * Announces each swarm this page is in, periodically, and hands back the peers the tracker lists.
 * With several tracker URLs (the nodes of a cluster) a failed announce moves the page to the next
 * one, soon while one of them was not tried since the last success.
 */
export class TrackerClient {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private peerId: string | undefined;
  private token: string | undefined;
  private destroyed = false;
  private readonly urls: readonly string[];
  private index = 0;
  private failedInRound = 0;

  constructor(
    urls: string | readonly string[],
    private readonly uploads: () => boolean,
    private readonly h: TrackerHandler,
    private readonly fetchFn: typeof fetch = (i, init) => fetch(i, init),
    /** What the page reports about a swarm besides its id (TrackerAnnounce.freeLinks, uploadBytesPerSec, received). */
    private readonly report: (swarm: string) => Pick<TrackerAnnounce, 'freeLinks' | 'uploadBytesPerSec' | 'received'> = () => ({}),
  ) {
    this.urls = urlList(urls, DEFAULT_TRACKER_URL);
  }

  /** Use the tracker at position `i` of the list from now on (the node the page's signaling is on). */
  prefer(i: number): void {
    if (i >= 0 && i < this.urls.length) this.index = i;
  }

  /** This page's peer id and the token its signaling session opened with (the tracker accepts announces only with it). */
  setPeerId(id: string | undefined, token: string | undefined): void {
    const was = this.peerId;
    this.peerId = id;
    this.token = token;
    if (id !== undefined && was === undefined) for (const swarm of this.timers.keys()) this.schedule(swarm, 0);
  }

  join(swarm: string): void {
    if (this.timers.has(swarm) || this.destroyed) return;
    this.schedule(swarm, 0);
  }

  destroy(): void {
    this.destroyed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(swarm: string, delayMs: number): void {
    clearTimeout(this.timers.get(swarm));
    this.timers.set(swarm, setTimeout(() => void this.announce(swarm), delayMs));
  }

  private async announce(swarm: string): Promise<void> {
    if (this.destroyed) return;
    const peerId = this.peerId;
    if (peerId === undefined) {
      this.schedule(swarm, RETRY_MS);
      return;
    }
    const token = this.token;
    const body: TrackerAnnounce = { type: 'announce', swarm, peerId, uploads: this.uploads(), ...this.report(swarm), ...(token === undefined ? {} : { token }) };
    let next = RETRY_MS;
    const url = this.urls[this.index] ?? '';
    try {
      const resp = await this.fetchFn(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      const parsed = parseTrackerPeers(await resp.json());
      if (!parsed.ok) throw new Error(`bad answer: ${parsed.reason}`);
      if (parsed.value.swarm !== swarm) throw new Error('answer for another swarm');
      next = parsed.value.announceIntervalMs;
      this.failedInRound = 0;
      if (!this.destroyed) this.h.onPeers(parsed.value);
    } catch (e) {
      this.h.onError(`tracker: ${e instanceof Error ? e.message : String(e)}`);
      next = this.failed(url);
    }
    if (!this.destroyed && this.timers.has(swarm)) this.schedule(swarm, next);
  }

  /** The announce to `url` failed: the next tracker of the list, and when to try. */
  private failed(url: string): number {
    if (this.urls.length === 1 || this.urls[this.index] !== url) return RETRY_MS;
    this.index = (this.index + 1) % this.urls.length;
    this.failedInRound++;
    if (this.failedInRound < this.urls.length) return SWITCH_RETRY_MS;
    this.failedInRound = 0;
    return RETRY_MS;
  }
}
