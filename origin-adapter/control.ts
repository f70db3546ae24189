/**
 * Operator controls carried on every playlist the adapter serves, so every
 * viewer's worker sees a change within one playlist refresh:
 *   X-Relaycast-P2P: on | off | unregister
 *   X-Relaycast-Integrity: sha256   (this origin publishes segment hashes at /relaycast/hash)
 *   X-Relaycast-Hashes: <uri>=<sha256>:<pieceRoot>,...   (the listed segments' hashes)
 */
export type P2PMode = 'on' | 'off' | 'unregister';

export const P2P_MODES: readonly P2PMode[] = ['on', 'off', 'unregister'];

export const HEADER_P2P = 'X-Relaycast-P2P';
export const HEADER_INTEGRITY = 'X-Relaycast-Integrity';
export const HEADER_HASHES = 'X-Relaycast-Hashes';

export function playlistControlHeaders(mode: P2PMode, hashes?: string): Record<string, string> {
  return {
    [HEADER_P2P]: mode,
    [HEADER_INTEGRITY]: 'sha256',
    ...(hashes ? { [HEADER_HASHES]: hashes } : {}),
    // Cross-origin pages (sidecar or CDN hostname) need these exposed to the worker.
    'Access-Control-Expose-Headers': `${HEADER_P2P}, ${HEADER_INTEGRITY}, ${HEADER_HASHES}`,
  };
}
