/** POST /relaycast/tracker: JSON announce in, TrackerPeers out. CORS-open so a sidecar adapter works cross-origin. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseTrackerAnnounce, type TrackerAnnounce, type TrackerPeers } from '../protocol/tracker.js';
import { ADAPTER_LIMITS } from './config.js';
import { CORS_HEADERS, readBody, sendJson } from './http-util.js';

export const TRACKER_PATH = '/relaycast/tracker';

/** Live signaling sessions: an announce is accepted only for one of them (signaling.ts). */
export interface Sessions {
  sessionMatches(peerId: string, token: string): Promise<boolean>;
}

/** What the route does with an accepted announce: the tracker's answer (cluster/tracker-share.ts shares it with other nodes). */
export type Announce = (a: TrackerAnnounce, address: string) => TrackerPeers;

export async function handleTracker(req: IncomingMessage, res: ServerResponse, announce: Announce, sessions: Sessions | undefined, address: string): Promise<void> {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...CORS_HEADERS, 'Content-Length': '0' });
    res.end();
    return;
  }
  if (req.method !== 'POST') {
    sendJson(res, 405, { error: 'use POST' }, { ...CORS_HEADERS, Allow: 'POST, OPTIONS' });
    return;
  }
  const body = await readBody(req, ADAPTER_LIMITS.trackerBodyBytes);
  if (!body.ok) {
    if (body.reason === 'too-large') {
      // Close the connection rather than drain an arbitrarily large body.
      sendJson(res, 413, { error: `body over ${ADAPTER_LIMITS.trackerBodyBytes} bytes` }, { ...CORS_HEADERS, Connection: 'close' });
    } else res.destroy();
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(body.body.toString('utf8'));
  } catch {
    sendJson(res, 400, { error: 'bad JSON' }, CORS_HEADERS);
    return;
  }
  const parsed = parseTrackerAnnounce(value);
  if (!parsed.ok) {
    sendJson(res, 400, { error: parsed.reason }, CORS_HEADERS);
    return;
  }
  // Bound to the signaling session: only the page holding (peerId, token) announces that id.
  const { peerId, token } = parsed.value;
  if (sessions !== undefined && (token === undefined || !(await sessions.sessionMatches(peerId, token)))) {
    sendJson(res, 403, { error: 'announce refused: peerId and token must be those of a live signaling session' }, CORS_HEADERS);
    return;
  }
  sendJson(res, 200, announce(parsed.value, address), CORS_HEADERS);
}
