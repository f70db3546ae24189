/**
 * Who may publish. The publish name (OBS's "Stream Key" field, the last part of an ffmpeg
 * rtmp:// URL) is either the key alone, for the adapter's stream, or `<stream>?key=<key>`.
 * The key is compared in constant time; a wrong or missing key and a second pusher are refused.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { PublishDecision } from './session.js';

/** Keys are URL-safe, so they survive every encoder's URL handling. */
export const STREAM_KEY_PATTERN = /^[A-Za-z0-9._~-]{8,256}$/;

export interface PublishName {
  /** The stream named before `?`, or undefined for the key-only form. */
  readonly stream: string | undefined;
  readonly key: string | undefined;
}

export function parsePublishName(name: string): PublishName {
  const q = name.indexOf('?');
  if (q < 0) return { stream: undefined, key: name === '' ? undefined : name };
  const key = new URLSearchParams(name.slice(q + 1)).get('key');
  return { stream: name.slice(0, q), key: key === null || key === '' ? undefined : key };
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function keyMatches(given: string | undefined, key: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(key));
}

/** The decision for one `publish`, before the slot check: the stream and the key. */
export function checkPublish(name: string, stream: string, key: string): PublishDecision {
  const p = parsePublishName(name);
  if (p.stream !== undefined && p.stream !== stream) {
    return { ok: false, code: 'NetStream.Publish.BadName', description: `unknown stream "${p.stream.slice(0, 64)}"; this adapter publishes "${stream}"` };
  }
  if (!keyMatches(p.key, key)) return { ok: false, code: 'NetStream.Publish.BadName', description: p.key === undefined ? 'missing stream key' : 'wrong stream key' };
  return { ok: true, stream };
}
