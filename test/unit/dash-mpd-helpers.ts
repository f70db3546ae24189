/** Shared by the DASH parser's unit tests: one MPD URL and clock, and a parse that must succeed. */
import assert from 'node:assert/strict';
import { parseMpd, type Mpd } from '../../sw/manifest/dash-mpd.js';

export const MPD_URL = 'http://example.test/live/demo/manifest.mpd';
export const AST = '2024-01-01T00:00:00Z';
export const AST_MS = Date.parse(AST);

export function parse(text: string, nowMs = AST_MS, url = MPD_URL): Mpd {
  const r = parseMpd(text, url, nowMs);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.value;
}
