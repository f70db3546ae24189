import { normalizeUrl } from '../protocol/segment-id.js';
import { isSha256 } from '../protocol/worker.js';

/** What the origin adapter says on each playlist it serves (see origin-adapter/control.ts). */
export type P2PMode = 'on' | 'off' | 'unregister';

/** A segment's hashes as the origin published them: SHA-256 and, when known, the piece root (protocol/pieces.ts). */
export interface PublishedHash {
  readonly sha256: string;
  readonly pieceRoot?: string;
}

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

/** `<sha256>` or `<sha256>:<pieceRoot>`; undefined when malformed. */
function parseHashes(v: string): PublishedHash | undefined {
  const [sha256, pieceRoot, extra] = v.split(':');
  if (extra !== undefined || !isSha256(sha256)) return undefined;
  if (pieceRoot === undefined) return { sha256 };
  return isSha256(pieceRoot) ? { sha256, pieceRoot } : undefined;
}

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
  const mode = headers.get('x-relaycast-p2p')?.trim().toLowerCase();
  const p2p: P2PMode = mode === 'off' || mode === 'unregister' ? mode : 'on';
  const integrity = headers.get('x-relaycast-integrity')?.trim().toLowerCase() === 'sha256';
  const hashes = new Map<string, PublishedHash>();
  const raw = headers.get('x-relaycast-hashes') ?? '';
  const origin = originOf(playlistUrl);
  if (raw.length <= MAX_HASH_HEADER_CHARS && origin !== undefined) {
    for (const part of raw.split(',').slice(0, MAX_HASHES)) {
      const eq = part.lastIndexOf('=');
      if (eq <= 0) continue;
      const url = normalizeUrl(part.slice(0, eq).trim(), playlistUrl);
      const h = parseHashes(part.slice(eq + 1).trim());
      if (url !== undefined && h !== undefined && originOf(url) === origin) hashes.set(url, h);
    }
  }
  return { p2p, integrity, hashes };
}
