import type { RelaycastStats } from '../../protocol/stats.js';
/**
 * Installed in every viewer page before any page script runs. It measures
 * what the player experienced, independently of relaycast: segment bytes the
 * player received (by wrapping XHR and fetch), stalls (`waiting` after the
 * first `playing`), and distance behind the live edge (seekable end minus
 * currentTime), the same way with P2P on and off.
 */
export const PROBE_SCRIPT = `(() => {
  const SEG = /\\.(ts|m4s|mp4|m4a|aac|cmfv|cmfa)$/i;
  const isSeg = (url) => { try { return SEG.test(new URL(url, location.href).pathname); } catch { return false; } };
  const m = { segmentBytes: 0, segmentRequests: 0, stalls: 0, stalledMs: 0, firstPlayingAt: null, stallStart: null, stallKind: null, stallLog: [], slowLog: [], longTaskMs: 0, errors: [], hashes: [] };
  window.__probe = m;
  // Segment requests that took over a second (page clock), to line stalls up with slow answers;
  // and main-thread long tasks, to tell a busy page from a slow network.
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.entryType === 'longtask') { m.longTaskMs += e.duration; continue; }
        if (e.duration > 1000 && isSeg(e.name) && m.slowLog.length < 50) {
          m.slowLog.push({ atSec: Math.round(e.startTime) / 1000, ms: Math.round(e.duration), path: new URL(e.name).pathname.split('/').pop() });
        }
      }
    }).observe({ entryTypes: ['resource', 'longtask'] });
  } catch {}
  // SHA-256 of every segment the player received, so the load tool can compare with the origin's bytes.
  const b64url = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  // A byte-range request is keyed 'path|start-end', as the adapter's hash route names it.
  const rangeOf = (v) => { const r = /^bytes=(\\d+)-(\\d+)$/.exec(String(v || '').trim()); return r ? r[1] + '-' + r[2] : null; };
  const hash = (url, body, range) => {
    if (!(body instanceof ArrayBuffer) || !crypto.subtle) return;
    crypto.subtle.digest('SHA-256', body).then((d) => {
      const path = new URL(url, location.href).pathname + (range ? '|' + range : '');
      if (m.hashes.length < 5000) m.hashes.push({ path, sha256: b64url(d) });
    }, () => {});
  };
  const add = (url, n, body, range) => { if (isSeg(url) && n > 0) { m.segmentBytes += n; m.segmentRequests++; hash(url, body, range); } };
  const setHeader = XMLHttpRequest.prototype.setRequestHeader;
  XMLHttpRequest.prototype.setRequestHeader = function (k, v) {
    if (String(k).toLowerCase() === 'range') this.__probeRange = rangeOf(v);
    return setHeader.call(this, k, v);
  };
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.__probeUrl = String(url);
    // readystatechange, not load: hls.js detaches and aborts its XHR from inside its DONE handler.
    let counted = false;
    this.addEventListener('readystatechange', () => {
      if (this.readyState !== 4 || counted) return;
      counted = true;
      const r = this.response;
      if (this.status >= 200 && this.status < 300 && r) add(this.responseURL || this.__probeUrl, r.byteLength || r.size || (typeof r === 'string' ? r.length : 0), r, this.status === 206 ? this.__probeRange : null);
    });
    return open.call(this, method, url, ...rest);
  };
  const f = window.fetch;
  window.fetch = async function (input, init) {
    const resp = await f.call(this, input, init);
    const url = typeof input === 'string' ? input : input.url;
    const h = new Headers((init && init.headers) || (typeof input === 'string' ? undefined : input.headers));
    const range = resp.status === 206 ? rangeOf(h.get('range')) : null;
    if (resp.ok && isSeg(url)) resp.clone().arrayBuffer().then((b) => add(url, b.byteLength, b, range), () => {});
    return resp;
  };
  // Media seconds buffered ahead of the playhead in the range that holds it (0: none).
  const aheadOf = (v) => {
    for (let i = 0; i < v.buffered.length; i++) if (v.buffered.start(i) <= v.currentTime + 0.1 && v.currentTime < v.buffered.end(i)) return v.buffered.end(i) - v.currentTime;
    return 0;
  };
  document.addEventListener('playing', () => {
    const now = performance.now();
    if (m.firstPlayingAt === null) m.firstPlayingAt = now;
    if (m.stallStart !== null) {
      m.stalledMs += now - m.stallStart;
      // When (page clock, s) and how long, to line stalls up with what the mesh was doing; and what the
      // element held when it began: a player's own seek within buffered media (seeking, aheadSec > 0)
      // is not the buffer running dry (aheadSec about 0).
      if (m.stallLog.length < 50) m.stallLog.push({ atSec: Math.round(m.stallStart) / 1000, sec: Math.round(now - m.stallStart) / 1000, ...m.stallKind });
      m.stallStart = null;
    }
  }, true);
  document.addEventListener('waiting', (e) => {
    if (m.firstPlayingAt !== null && m.stallStart === null) {
      m.stalls++;
      m.stallStart = performance.now();
      const v = e.target;
      m.stallKind = v instanceof HTMLMediaElement ? { seeking: v.seeking, aheadSec: Math.round(aheadOf(v) * 100) / 100 } : { seeking: false, aheadSec: 0 };
    }
  }, true);
  window.addEventListener('error', (e) => { if (m.errors.length < 20) m.errors.push(String(e.message)); });
})();`;

/** One finished stall, as the probe saw it. */
export interface StallEntry {
  /** Page time (s since navigation) when `waiting` fired. */
  readonly atSec: number;
  /** Until the next `playing`, s. */
  readonly sec: number;
  /** The element was seeking: the player (or the page) moved the playhead. */
  readonly seeking: boolean;
  /** Media seconds buffered ahead of the playhead when it began (about 0: the buffer ran dry). */
  readonly aheadSec: number;
}

export interface ProbeSample {
  readonly segmentBytes: number;
  readonly stalls: number;
  readonly stalledSec: number;
  readonly playing: boolean;
  readonly currentTime: number;
  /** Page clock (s since navigation) when this sample was read: with currentTime, how fast the media clock runs. */
  readonly pageSec: number;
  /** Each finished stall: page time (s since navigation), length (s), and the element when it began. */
  readonly stallLog: StallEntry[];
  /** Segment requests that took over a second: page time (s), duration (ms), file name. */
  readonly slowLog: { atSec: number; ms: number; path: string }[];
  /** Main-thread long tasks, total seconds. */
  readonly longTaskSec: number;
  /** Page time (s) of the first `playing`, null before. */
  readonly firstPlayingSec: number | null;
  /** Seconds behind the live edge (seekable end - currentTime), null before playback. */
  readonly latencySec: number | null;
  readonly controlled: boolean;
  readonly relaycast: RelaycastStats | null;

  readonly errors: string[];
  /** Segments received since the last read (drained on each read). */
  readonly hashes: { path: string; sha256: string }[];
}

/** Runs in the page (passed to page.evaluate). */
export function readProbe(): ProbeSample {
  type Probe = {
    segmentBytes: number;
    stalls: number;
    stalledMs: number;
    firstPlayingAt: number | null;
    stallStart: number | null;
    errors: string[];
    hashes: { path: string; sha256: string }[];
    stallLog: StallEntry[];
    slowLog: { atSec: number; ms: number; path: string }[];
    longTaskMs: number;
  };
  const w = window as unknown as { __probe: Probe; relaycast?: { stats(): ProbeSample['relaycast'] } };
  const m = w.__probe;
  const v = document.querySelector('video');
  const stalledMs = m.stalledMs + (m.stallStart !== null ? performance.now() - m.stallStart : 0);
  let latencySec: number | null = null;
  if (v && m.firstPlayingAt !== null && v.seekable.length > 0) latencySec = v.seekable.end(v.seekable.length - 1) - v.currentTime;
  return {
    segmentBytes: m.segmentBytes,
    stalls: m.stalls,
    stalledSec: stalledMs / 1000,
    stallLog: m.stallLog.slice(),
    slowLog: m.slowLog.slice(),
    longTaskSec: Math.round(m.longTaskMs) / 1000,
    firstPlayingSec: m.firstPlayingAt === null ? null : Math.round(m.firstPlayingAt) / 1000,
    playing: m.firstPlayingAt !== null && !!v && !v.paused,
    currentTime: v ? v.currentTime : 0,
    pageSec: performance.now() / 1000,
    latencySec,
    controlled: navigator.serviceWorker?.controller != null,
    relaycast: w.relaycast ? w.relaycast.stats() : null,
    errors: m.errors,
    hashes: m.hashes.splice(0),
  };
}
