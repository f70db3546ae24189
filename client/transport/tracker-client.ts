import { parseTrackerPeers, type TrackerAnnounce, type TrackerPeers } from '../../protocol/tracker.js';

export interface TrackerHandler {
  onPeers(answer: TrackerPeers): void;
  onError(message: string): void;
}

const RETRY_MS = 5000;
const REQUEST_TIMEOUT_MS = 5000;

/** Announces each swarm this page is in, periodically, and hands back the peers the tracker lists. */
export class TrackerClient {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private peerId: string | undefined;
  private token: string | undefined;
  private destroyed = false;

  constructor(
    private readonly url: string,
    private readonly uploads: () => boolean,
    private readonly h: TrackerHandler,
    private readonly fetchFn: typeof fetch = (i, init) => fetch(i, init),
    /** What the page reports about a swarm besides its id (TrackerAnnounce.freeLinks, uploadBytesPerSec, received). */
    private readonly report: (swarm: string) => Pick<TrackerAnnounce, 'freeLinks' | 'uploadBytesPerSec' | 'received'> = () => ({}),
  ) {}

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
    try {
      const resp = await this.fetchFn(this.url, {
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
      if (!this.destroyed) this.h.onPeers(parsed.value);
    } catch (e) {
      this.h.onError(`tracker: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!this.destroyed && this.timers.has(swarm)) this.schedule(swarm, next);
  }
}
