import { HEADER_HASHES, HEADER_INTEGRITY, HEADER_P2P, type P2PMode } from '../protocol/control.js';

export { P2P_MODES, type P2PMode } from '../protocol/control.js';

/** The operator's controls on a playlist the adapter serves (protocol/control.ts). */
export function playlistControlHeaders(mode: P2PMode, hashes?: string): Record<string, string> {
  return {
    [HEADER_P2P]: mode,
    [HEADER_INTEGRITY]: 'sha256',
    ...(hashes ? { [HEADER_HASHES]: hashes } : {}),
    // Cross-origin pages (sidecar or CDN hostname) need these exposed to the worker.
    'Access-Control-Expose-Headers': `${HEADER_P2P}, ${HEADER_INTEGRITY}, ${HEADER_HASHES}`,
  };
}
