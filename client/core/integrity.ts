import { putBounded } from '../../protocol/bounded.js';
import { isRecord } from '../../protocol/guards.js';
import { LIMITS } from '../../protocol/limits.js';
import { fromBase64Url, LEAF_BYTES, MAX_HASH_LIST_CHARS, pieceCount } from '../../protocol/pieces.js';
import { isSha256 } from '../../protocol/worker.js';

export type Verdict = 'ok' | 'mismatch' | 'unknown';

const MAX_CACHED = 512;

interface Published {
  readonly sha256: string | undefined;
  readonly pieceRoot: string | undefined;
}
const LOOKUP_TIMEOUT_MS = 3000;

/** SHA-256 of `bytes`, base64url without padding (what the origin adapter publishes). */
export async function sha256Base64Url(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let s = '';
  for (const b of d) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Checks peer bytes against the hashes the origin published, before they can
 * reach a player: a whole copy against its SHA-256, a hash list (whose entries
 * then check each piece) against its piece root. Both come with the playlist
 * (X-Relaycast-Hashes) or, when the playlist did not carry them, from the
 * adapter's /relaycast/hash. No hash, no use: unverifiable bytes are dropped
 * (the origin answers instead).
 */
export class Verifier {
  private readonly known = new Map<string, Published>();
  /** Lookups under way, so the many pieces of one segment ask once. */
  private readonly asking = new Map<string, Promise<Published | undefined>>();

  constructor(
    private readonly hashUrl: string,
    private readonly fetchFn: typeof fetch = (i, init) => fetch(i, init),
    private readonly digest: (b: Uint8Array) => Promise<string> = sha256Base64Url,
  ) {}

  /** What a playlist carried for a segment: its SHA-256 and its piece root (protocol/pieces.ts). */
  remember(segmentId: string, sha256: string | undefined, pieceRoot: string | undefined): void {
    const was = this.known.get(segmentId);
    putBounded(this.known, segmentId, { sha256: sha256 ?? was?.sha256, pieceRoot: pieceRoot ?? was?.pieceRoot }, MAX_CACHED);
  }

  /** A whole copy against the published SHA-256. */
  async verify(segmentId: string, bytes: Uint8Array): Promise<Verdict> {
    const expected = (await this.published(segmentId, 'sha256'))?.sha256;
    if (expected === undefined) return 'unknown';
    return (await this.digest(bytes)) === expected ? 'ok' : 'mismatch';
  }

  /** A segment's hash list (its pieces' digests) against the published piece root. */
  async verifyList(segmentId: string, list: Uint8Array): Promise<Verdict> {
    const expected = (await this.published(segmentId, 'pieceRoot'))?.pieceRoot;
    if (expected === undefined) return 'unknown';
    return (await this.digest(list)) === expected ? 'ok' : 'mismatch';
  }

  /**
   * A listed segment's size and hash list as the adapter publishes them (a stripe head's first
   * step: client/swarm/heading.ts), the list checked against the piece root, or undefined.
   */
  async describe(segmentId: string): Promise<{ bytes: number; list: Uint8Array } | undefined> {
    const j = await this.ask(segmentId, true);
    if (!isRecord(j)) return undefined;
    const sha = j['sha256'];
    const root = j['pieceRoot'];
    const bytes = j['bytes'];
    const text = j['list'];
    if (!isSha256(sha) || !isSha256(root) || typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 1 || bytes > LIMITS.segmentBytes) return undefined;
    if (typeof text !== 'string' || text.length > MAX_HASH_LIST_CHARS) return undefined;
    const list = fromBase64Url(text);
    if (list === undefined || list.byteLength !== pieceCount(bytes) * LEAF_BYTES) return undefined;
    const known = this.known.get(segmentId)?.pieceRoot;
    if ((known !== undefined && known !== root) || (await this.digest(list)) !== root) return undefined;
    this.remember(segmentId, sha, root);
    return { bytes, list };
  }

  private async published(segmentId: string, need: keyof Published): Promise<Published | undefined> {
    const k = this.known.get(segmentId);
    if (k?.[need] !== undefined) return k;
    let asking = this.asking.get(segmentId);
    if (!asking) {
      asking = this.lookup(segmentId).finally(() => this.asking.delete(segmentId));
      this.asking.set(segmentId, asking);
    }
    return asking;
  }

  private async lookup(segmentId: string): Promise<Published | undefined> {
    const j = await this.ask(segmentId, false);
    const sha = isRecord(j) ? j['sha256'] : undefined;
    const root = isRecord(j) ? j['pieceRoot'] : undefined;
    if (!isSha256(sha)) return undefined;
    this.remember(segmentId, sha, isSha256(root) ? root : undefined);
    return this.known.get(segmentId);
  }

  /** The adapter's answer for a segment (`list`: with its hash list), parsed JSON, or undefined. */
  private async ask(segmentId: string, list: boolean): Promise<unknown> {
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
      if (list) u.searchParams.set('list', '1');
      const r = await this.fetchFn(u.href, { signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS) });
      if (!r.ok) return undefined;
      const j: unknown = await r.json();
      return j;
    } catch {
      return undefined;
    }
  }
}
