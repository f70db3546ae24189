import { isSha256 } from './worker.js';

/**
 * The operator's controls carried on every playlist the origin adapter serves, so every
 * viewer's worker sees a change within one playlist refresh:
 *   X-Relaycast-P2P: on | off | unregister
 *   X-Relaycast-Integrity: sha256   (this origin publishes segment hashes at /relaycast/hash)
 *   X-Relaycast-Hashes: <uri>=<sha256>[:<pieceRoot>],...   (the listed segments' hashes)
 * The adapter writes them (origin-adapter/control.ts), the worker reads them (sw/control.ts).
 */
export type P2PMode = 'on' | 'off' | 'unregister';

export const P2P_MODES: readonly P2PMode[] = ['on', 'off', 'unregister'];

export const HEADER_P2P = 'X-Relaycast-P2P';
export const HEADER_INTEGRITY = 'X-Relaycast-Integrity';
export const HEADER_HASHES = 'X-Relaycast-Hashes';

/** A segment's hashes as the origin published them: SHA-256 and, when known, the piece root (protocol/pieces.ts). */
export interface PublishedHash {
  readonly sha256: string;
  readonly pieceRoot?: string;
}

/** One X-Relaycast-Hashes entry's value: `<sha256>` or `<sha256>:<pieceRoot>`. */
export function formatPublished(h: PublishedHash): string {
  return h.pieceRoot === undefined ? h.sha256 : `${h.sha256}:${h.pieceRoot}`;
}

/** The inverse of formatPublished; undefined when malformed. */
export function parsePublished(v: string): PublishedHash | undefined {
  const [sha256, pieceRoot, extra] = v.split(':');
  if (extra !== undefined || !isSha256(sha256)) return undefined;
  if (pieceRoot === undefined) return { sha256 };
  return isSha256(pieceRoot) ? { sha256, pieceRoot } : undefined;
}

/** The P2P mode a header value names; a missing or unknown value is 'on' (an origin without the adapter in front). */
export function parseP2PMode(v: string | null | undefined): P2PMode {
  const mode = v?.trim().toLowerCase();
  return mode === 'off' || mode === 'unregister' ? mode : 'on';
}
