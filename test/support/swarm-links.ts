import { PeerLink } from '../../client/transport/peer-link.js';
import type { Swarm } from '../../client/swarm/swarm.js';
import { channelPair } from './fake-channel.js';

type LinkConfig = ConstructorParameters<typeof PeerLink>[4];

/** Links two test viewers' swarms over an in-memory channel pair, as the page's mesh would; `track` sees each link. */
export function linkSwarms(
  x: { readonly id: string; readonly swarm: Swarm },
  y: { readonly id: string; readonly swarm: Swarm },
  swarmId: string,
  cfg: LinkConfig,
  track: (l: PeerLink) => PeerLink = (l) => l,
  /** Upload rates (bytes/s) of x and of y on this link; unlimited when absent. */
  rate: { x?: number; y?: number } = {},
): void {
  const { a, b } = channelPair({ ...(rate.x === undefined ? {} : { a: rate.x }), ...(rate.y === undefined ? {} : { b: rate.y }) });
  const la = track(new PeerLink(y.id, swarmId, a, x.swarm, cfg));
  const lb = track(new PeerLink(x.id, swarmId, b, y.swarm, cfg));
  a.onData = (d) => la.receive(d);
  b.onData = (d) => lb.receive(d);
  x.swarm.addLink(la);
  y.swarm.addLink(lb);
  la.start();
  lb.start();
}
