import { putBounded } from '../protocol/bounded.js';

/** A swarm counts as in use by a page this long after its player's last segment request of it. */
const ACTIVE_MS = 30_000;
const MAX_CLIENTS = 64;
const MAX_SWARMS_PER_CLIENT = 32;

/**
 * Which swarms (renditions) each page's player is actually using. A DASH MPD
 * lists every rendition; the page joins only the ones its player requests, so
 * a viewer never fetches or relays a rendition it does not watch.
 */
export class Activity {
  private readonly byClient = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number) {}

  /** Records a request; true when the swarm was not in use by this page before. */
  touch(clientId: string, swarm: string): boolean {
    const fresh = !this.isActive(clientId, swarm);
    let m = this.byClient.get(clientId);
    if (!m) {
      m = new Map();
      putBounded(this.byClient, clientId, m, MAX_CLIENTS);
    }
    putBounded(m, swarm, this.now(), MAX_SWARMS_PER_CLIENT);
    return fresh;
  }

  isActive(clientId: string, swarm: string): boolean {
    const t = this.byClient.get(clientId)?.get(swarm);
    return t !== undefined && this.now() - t <= ACTIVE_MS;
  }
}
