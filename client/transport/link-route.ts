/**
 * Which route ICE chose for a connection, from `RTCPeerConnection.getStats()`: `relay` when
 * either end is a TURN relay, `srflx` when either end is a NAT's mapping (found by STUN, or
 * peer-reflexive during the checks), `host` when both ends use their own addresses.
 */
export type LinkRoute = 'host' | 'srflx' | 'relay';
export type RouteCounts = Record<LinkRoute, number>;

export function noRoutes(): RouteCounts {
  return { host: 0, srflx: 0, relay: 0 };
}

/** The route of a pair of candidate types (`RTCIceCandidateStats.candidateType`). */
export function routeOf(local: unknown, remote: unknown): LinkRoute | undefined {
  const types = [local, remote];
  if (!types.every((t) => t === 'host' || t === 'srflx' || t === 'prflx' || t === 'relay')) return undefined;
  if (types.includes('relay')) return 'relay';
  if (types.includes('srflx') || types.includes('prflx')) return 'srflx';
  return 'host';
}

type StatsEntry = Record<string, unknown> & { type?: unknown; id?: unknown };

/** The selected pair's route in a stats report (Chromium: the transport's selectedCandidatePairId). */
export function routeInStats(entries: Iterable<StatsEntry>): LinkRoute | undefined {
  const byId = new Map<string, StatsEntry>();
  for (const e of entries) if (typeof e.id === 'string') byId.set(e.id, e);
  let pair: StatsEntry | undefined;
  for (const e of byId.values()) {
    if (e.type === 'transport' && typeof e['selectedCandidatePairId'] === 'string') pair = byId.get(e['selectedCandidatePairId']);
  }
  if (!pair) {
    for (const e of byId.values()) if (e.type === 'candidate-pair' && e['nominated'] === true && e['state'] === 'succeeded') pair = e;
  }
  if (!pair) return undefined;
  const local = byId.get(String(pair['localCandidateId']));
  const remote = byId.get(String(pair['remoteCandidateId']));
  return routeOf(local?.['candidateType'], remote?.['candidateType']);
}

/** The route of an open connection, or undefined while ICE has not chosen one (or the stats fail). */
export async function linkRoute(pc: RTCPeerConnection | undefined): Promise<LinkRoute | undefined> {
  if (!pc) return undefined;
  try {
    const report = await pc.getStats();
    return routeInStats(report.values() as Iterable<StatsEntry>);
  } catch {
    return undefined;
  }
}
