// The script-tag build: <script src="/relaycast/relaycast.js"></script> is the one line.
// Options come from data attributes, e.g. data-signal-url, data-tracker-url (several nodes: URLs
// separated by spaces),
// data-ice-servers='[{"urls":"stun:stun.example.org"}]', data-upload="false", data-p2p="false",
// data-max-upload-bytes-per-sec="500000", data-integrity="off", data-hash-url, data-relay-only="true",
// data-ignore-query="true" (or a list: "token,expires"), data-ignore-host="true", data-sw-url, data-sw-scope,
// data-persist-vod-bytes="67108864" (VOD disk cache), data-ice-url (the adapter's STUN/TURN
// credentials; "none" for only data-ice-servers).
// A page may also set window.relaycastOptions = {...} (any RelaycastConfig field) before the tag;
// data attributes win over it.
import { DEFAULT_CONFIG, type RelaycastConfig } from './config.js';
import { start, type RelaycastHandle } from './index.js';
import { parseUploadSetting } from './core/upload-allowance.js';

declare global {
  interface Window {
    relaycast?: RelaycastHandle;
    relaycastOptions?: Partial<RelaycastConfig>;
  }
}

/** One URL, or several separated by whitespace (which a URL cannot hold). */
function urls(v: string): string | string[] {
  const list = v.split(/\s+/).filter((u) => u !== '');
  return list.length === 1 ? (list[0] ?? v) : list;
}

function readOptions(el: HTMLOrSVGScriptElement | null): Partial<RelaycastConfig> {
  const d = el instanceof HTMLScriptElement ? el.dataset : undefined;
  if (!d) return {};
  const opts: { -readonly [K in keyof RelaycastConfig]?: RelaycastConfig[K] } = {};
  if (d['swUrl']) opts.swUrl = d['swUrl'];
  if (d['swScope']) opts.swScope = d['swScope'];
  // Several nodes of a cluster: URLs separated by spaces, tried in that order.
  if (d['signalUrl']) opts.signalUrl = urls(d['signalUrl']);
  if (d['trackerUrl']) opts.trackerUrl = urls(d['trackerUrl']);
  if (d['upload'] === 'false') opts.upload = false;
  if (d['integrity'] === 'off') opts.integrity = 'off';
  if (d['relayOnly'] === 'true') opts.relayOnly = true;
  if (d['hashUrl']) opts.hashUrl = d['hashUrl'];
  if (d['iceUrl']) opts.iceUrl = d['iceUrl'] === 'none' ? null : d['iceUrl'];
  const maxUp = parseUploadSetting(d['maxUploadBytesPerSec']);
  if (maxUp !== undefined) opts.maxUploadBytesPerSec = maxUp;
  if (d['p2p'] === 'false') opts.p2p = false;
  if (d['ignoreQuery'] === 'true') opts.ignoreQuery = true;
  else if (d['ignoreQuery']) opts.ignoreQuery = d['ignoreQuery'].split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (d['ignoreHost'] === 'true') opts.ignoreHost = true;
  const persist = Number(d['persistVodBytes']);
  if (d['persistVodBytes'] !== undefined && Number.isSafeInteger(persist) && persist >= 0) opts.persistVodBytes = persist;
  if (d['iceServers']) {
    try {
      const v: unknown = JSON.parse(d['iceServers']);
      if (Array.isArray(v)) opts.iceServers = v.filter((s): s is RTCIceServer => typeof s === 'object' && s !== null && 'urls' in s);
    } catch {
      console.warn('[relaycast] data-ice-servers is not JSON; using', DEFAULT_CONFIG.iceServers);
    }
  }
  return opts;
}

/** Page-provided options object: only plain values of known keys are taken. */
function globalOptions(): Partial<RelaycastConfig> {
  const g: unknown = window.relaycastOptions;
  if (typeof g !== 'object' || g === null) return {};
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(DEFAULT_CONFIG)) {
    const v: unknown = (g as Record<string, unknown>)[k];
    const want = typeof DEFAULT_CONFIG[k as keyof RelaycastConfig];
    const strings = Array.isArray(v) && v.every((p) => typeof p === 'string');
    const listOk = Array.isArray(v) && (k === 'iceServers' || (strings && (k === 'ignoreQuery' || k === 'signalUrl' || k === 'trackerUrl')));
    if (k === 'maxUploadBytesPerSec') {
      const up = parseUploadSetting(v);
      if (up !== undefined) out[k] = up;
    } else if (k === 'iceUrl' && v === null) out[k] = null;
    else if (v !== undefined && (typeof v === want || listOk)) out[k] = v;
  }
  return out as Partial<RelaycastConfig>;
}

if (!window.relaycast) window.relaycast = start({ ...globalOptions(), ...readOptions(document.currentScript) });
