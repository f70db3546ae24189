/**
 * Segment hashes the adapter publishes so pages can check peer bytes before
 * they reach a player. For the embedded source every segment listed in a
 * playlist is hashed before that playlist is served (no window where a listed
 * segment has no hash); in --upstream mode a segment is hashed as its first
 * full 200 response streams through the proxy, and pages ask
 * /relaycast/hash for it when they need it.
 */
import { putBounded } from '../protocol/bounded.js';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSafeFileName } from './paths.js';

/** Published hashes: SHA-256, base64url, keyed by URL path (query ignored: the bytes do not depend on tokens). */
export class HashRegistry {
  private readonly hashes = new Map<string, string>();

  constructor(private readonly maxEntries = 20_000) {}

  get(path: string): string | undefined {
    return this.hashes.get(path);
  }

  set(path: string, sha256: string): void {
    putBounded(this.hashes, path, sha256, this.maxEntries);
  }

  get size(): number {
    return this.hashes.size;
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

/** Segment URIs of a media playlist, as written (relative or absolute). */
export function playlistSegmentUris(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Hashes every segment a playlist of the embedded source lists (files in `dir`,
 * served under `urlDir`), and returns the header value naming them:
 * `seg_000041.ts=<sha256>,seg_000042.ts=<sha256>` for the last `max` segments.
 * A segment deleted under the sliding window meanwhile is skipped.
 */
export async function hashListedSegments(text: string, dir: string, urlDir: string, reg: HashRegistry, max = 32): Promise<string> {
  const parts: string[] = [];
  for (const uri of playlistSegmentUris(text).slice(-max)) {
    if (!isSafeFileName(uri)) continue;
    const path = `${urlDir}/${uri}`;
    let h = reg.get(path);
    if (h === undefined) {
      try {
        h = sha256(await readFile(join(dir, uri)));
      } catch {
        continue;
      }
      reg.set(path, h);
    }
    parts.push(`${uri}=${h}`);
  }
  return parts.join(',');
}

/** Incremental hashing of a streamed body (upstream mode). */
export function streamHasher(): { update(chunk: Uint8Array): void; digest(): string } {
  const h = createHash('sha256');
  return { update: (c) => void h.update(c), digest: () => h.digest('base64url') };
}
