import { normalizeUrl } from '../protocol/segment-id.js';
import { isSha256 } from '../protocol/worker.js';

/** What the origin adapter says on each playlist it serves (see origin-adapter/control.ts). */
export type P2PMode = 'on' | 'off' | 'unregister';

export interface PlaylistControl {
  /** Missing header (an origin without the adapter in front): 'on'; the page's tracker may still say off. */
  readonly p2p: P2PMode;
  /** The origin publishes segment hashes. */
  readonly integrity: boolean;
  /** Absolute segment URL -> SHA-256 (base64url). */
  readonly hashes: ReadonlyMap<string, string>;
}

const MAX_HASH_HEADER_CHARS = 64 * 1024;
const MAX_HASHES = 256;

export function readControl(headers: Headers, playlistUrl: string): PlaylistControl {
  const mode = headers.get('x-relaycast-p2p')?.trim().toLowerCase();
  const p2p: P2PMode = mode === 'off' || mode === 'unregister' ? mode : 'on';
  const integrity = headers.get('x-relaycast-integrity')?.trim().toLowerCase() === 'sha256';
  const hashes = new Map<string, string>();
  const raw = headers.get('x-relaycast-hashes') ?? '';
  if (raw.length <= MAX_HASH_HEADER_CHARS) {
    for (const part of raw.split(',').slice(0, MAX_HASHES)) {
      const eq = part.lastIndexOf('=');
      if (eq <= 0) continue;
      const url = normalizeUrl(part.slice(0, eq).trim(), playlistUrl);
      const sha = part.slice(eq + 1).trim();
      if (url !== undefined && isSha256(sha)) hashes.set(url, sha);
    }
  }
  return { p2p, integrity, hashes };
}
