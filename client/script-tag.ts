// The script-tag build: <script src="/relaycast/relaycast.js"></script> is the one line.
// Options come from data attributes, e.g. data-signal-url, data-tracker-url,
// data-ice-servers='[{"urls":"stun:stun.example.org"}]', data-upload="false", data-p2p="false".
import { DEFAULT_CONFIG, type RelaycastConfig } from './config.js';
import { start, type RelaycastHandle } from './index.js';

declare global {
  interface Window {
    relaycast?: RelaycastHandle;
  }
}

function readOptions(el: HTMLOrSVGScriptElement | null): Partial<RelaycastConfig> {
  const d = el instanceof HTMLScriptElement ? el.dataset : undefined;
  if (!d) return {};
  const opts: { -readonly [K in keyof RelaycastConfig]?: RelaycastConfig[K] } = {};
  if (d['swUrl']) opts.swUrl = d['swUrl'];
  if (d['swScope']) opts.swScope = d['swScope'];
  if (d['signalUrl']) opts.signalUrl = d['signalUrl'];
  if (d['trackerUrl']) opts.trackerUrl = d['trackerUrl'];
  if (d['upload'] === 'false') opts.upload = false;
  if (d['p2p'] === 'false') opts.p2p = false;
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

if (!window.relaycast) window.relaycast = start(readOptions(document.currentScript));
