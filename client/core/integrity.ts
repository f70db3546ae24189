import { putBounded } from '../../protocol/bounded.js';
import { isRecord } from '../../protocol/guards.js';
import { isSha256 } from '../../protocol/worker.js';

export type Verdict = 'ok' | 'mismatch' | 'unknown';

const MAX_CACHED = 512;
const LOOKUP_TIMEOUT_MS = 3000;

/** SHA-256 of `bytes`, base64url without padding (what the origin adapter publishes). */
export async function sha256Base64Url(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let s = '';
  for (const b of d) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Checks peer bytes against the hash the origin published, before they can
 * reach a player. The hash comes with the playlist (X-Relaycast-Hashes) or,
 * when the playlist did not carry it, from the adapter's /relaycast/hash.
 * No hash, no use: unverifiable bytes are dropped (the origin answers instead).
 */
export class Verifier {
  private readonly known = new Map<string, string>();

  constructor(
    private readonly hashUrl: string,
    private readonly fetchFn: typeof fetch = (i, init) => fetch(i, init),
    private readonly digest: (b: Uint8Array) => Promise<string> = sha256Base64Url,
  ) {}

  remember(segmentId: string, sha256: string): void {
    putBounded(this.known, segmentId, sha256, MAX_CACHED);
  }

  async verify(segmentId: string, bytes: Uint8Array): Promise<Verdict> {
    const expected = this.known.get(segmentId) ?? (await this.lookup(segmentId));
    if (expected === undefined) return 'unknown';
    return (await this.digest(bytes)) === expected ? 'ok' : 'mismatch';
  }

  private async lookup(segmentId: string): Promise<string | undefined> {
    // A segment id is a URL, plus `|start-end` for a byte range of it (protocol/segment-id.ts).
    const [url, range] = segmentId.split('|');
    let path: string;
    try {
      path = new URL(url ?? '').pathname;
    } catch {
      return undefined;
    }
    try {
      const u = new URL(this.hashUrl);
      u.searchParams.set('path', path);
      if (range !== undefined) u.searchParams.set('range', range);
      const r = await this.fetchFn(u.href, { signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS) });
      if (!r.ok) return undefined;
      const j: unknown = await r.json();
      const sha = isRecord(j) ? j['sha256'] : undefined;
      if (!isSha256(sha)) return undefined;
      this.remember(segmentId, sha);
      return sha;
    } catch {
      return undefined;
    }
  }
}
