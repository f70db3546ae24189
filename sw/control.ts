import { HEADER_HASHES, HEADER_INTEGRITY, HEADER_P2P, parseP2PMode, parsePublished, type P2PMode, type PublishedHash } from '../protocol/control.js';
import { normalizeUrl } from '../protocol/segment-id.js';

export type { P2PMode, PublishedHash } from '../protocol/control.js';

export interface PlaylistControl {
  /** Missing header (an origin without the adapter in front): 'on'; the page's tracker may still say off. */
  readonly p2p: P2PMode;
  /** The origin publishes segment hashes. */
  readonly integrity: boolean;
  /**
   * Absolute segment URL -> its published hashes, for URLs of the manifest's own origin only.
   * They are used only for the segments this manifest lists (learn.ts), so a manifest cannot
   * set the hashes of another swarm's segments either.
   */
  readonly hashes: ReadonlyMap<string, PublishedHash>;
}

const MAX_HASH_HEADER_CHARS = 64 * 1024;
const MAX_HASHES = 256;

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * `X-Relaycast-Hashes: <uri>=<sha256>[:<pieceRoot>],…`. An entry naming another origin is
 * ignored: whoever serves a manifest speaks only for its own segments (a manifest of another
 * site, loaded by the page, must not vouch for this site's bytes).
 */
export function readControl(headers: Headers, playlistUrl: string): PlaylistControl {
  const p2p: P2PMode = parseP2PMode(headers.get(HEADER_P2P));
  const integrity = headers.get(HEADER_INTEGRITY)?.trim().toLowerCase() === 'sha256';
  const hashes = new Map<string, PublishedHash>();
  const raw = headers.get(HEADER_HASHES) ?? '';
  const origin = originOf(playlistUrl);
  if (raw.length <= MAX_HASH_HEADER_CHARS && origin !== undefined) {
    for (const part of raw.split(',').slice(0, MAX_HASHES)) {
      const eq = part.lastIndexOf('=');
      if (eq <= 0) continue;
      const url = normalizeUrl(part.slice(0, eq).trim(), playlistUrl);
      const h = parsePublished(part.slice(eq + 1).trim());
      if (url !== undefined && h !== undefined && originOf(url) === origin) hashes.set(url, h);
    }
  }
  return { p2p, integrity, hashes };
}
