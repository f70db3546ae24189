/**
 * The page a streamer publishes: a plain player (hls.js, dash.js, video.js or
 * Shaka) plus THE ONE LINE that enables relaycast. The player gets no special
 * config: relaycast never changes its live-sync settings, so P2P on and off
 * are compared on equal terms.
 */

export const PLAYERS = ['hls.js', 'dash.js', 'video.js', 'shaka'] as const;
export type PlayerName = (typeof PLAYERS)[number];
export type StreamProtocol = 'hls' | 'dash';

/** What each player plays: hls.js only HLS, dash.js only DASH, video.js and Shaka both. */
export const PLAYER_PROTOCOLS: Readonly<Record<PlayerName, readonly StreamProtocol[]>> = {
  'hls.js': ['hls'],
  'dash.js': ['dash'],
  'video.js': ['hls', 'dash'],
  shaka: ['hls', 'dash'],
};

export function isPlayerName(v: unknown): v is PlayerName {
  return PLAYERS.some((p) => p === v);
}

export interface PlayerPageOptions {
  /** Manifest URL (HLS playlist or DASH MPD); must already have passed isAcceptablePlayerSrc. */
  readonly src: string;
  readonly player: PlayerName;
  readonly protocol: StreamProtocol;
  readonly title: string;
  /** False renders the same page without the relaycast script (baseline, `?relaycast=0`). */
  readonly relaycast: boolean;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** JSON for an inline <script>: also escapes `<`, `>`, `&` and U+2028/9 so no string can close the script element. */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const STATS_SCRIPT = `
function fmtBytes(n) {
  if (!(n >= 0)) return '0 B';
  if (n < 1024) return n + ' B';
  if (n < 1048576) return (n / 1024).toFixed(1) + ' KB';
  if (n < 1073741824) return (n / 1048576).toFixed(1) + ' MB';
  return (n / 1073741824).toFixed(2) + ' GB';
}
const statsEl = document.getElementById('relaycast-stats');
function showStats() {
  const rc = window.relaycast;
  if (rc === undefined || typeof rc.stats !== 'function') { statsEl.textContent = 'relaycast off'; return; }
  let s;
  try { s = rc.stats() || {}; } catch (e) { statsEl.textContent = 'relaycast stats unavailable'; return; }
  statsEl.textContent = 'peers ' + (s.peers ?? 0) + ' · from peers ' + fmtBytes(s.peerBytes) +
    ' · from origin ' + fmtBytes(s.originBytes) + ' · uploaded ' + fmtBytes(s.uploadedBytes);
}
showStats();
setInterval(showStats, 1000);`;

/** Each player at its defaults, started the way its own documentation shows. */
export const PLAYER_SCRIPTS: Readonly<Record<PlayerName, string>> = {
  'hls.js': `
let player = null;
if (window.Hls !== undefined && Hls.isSupported()) {
  player = new Hls();
  player.loadSource(SRC);
  player.attachMedia(video);
} else {
  video.src = SRC;
}
video.play().catch(() => {});`,
  'dash.js': `
const player = dashjs.MediaPlayer().create();
player.initialize(video, SRC, true);`,
  'video.js': `
const player = videojs(video, { autoplay: 'muted', muted: true, controls: true, fluid: false });
player.src({ src: SRC, type: PROTOCOL === 'dash' ? 'application/dash+xml' : 'application/x-mpegURL' });`,
  shaka: `
shaka.polyfill.installAll();
const player = new shaka.Player();
player.attach(video).then(() => player.load(SRC)).then(() => video.play().catch(() => {}), (e) => console.error('shaka', e && e.code, e));`,
};

export const VENDOR_TAGS: Readonly<Record<PlayerName, string>> = {
  'hls.js': '<script src="/relaycast/vendor/hls.min.js"></script>',
  'dash.js': '<script src="/relaycast/vendor/dash.all.min.js"></script>',
  'video.js': '<link rel="stylesheet" href="/relaycast/vendor/video-js.min.css">\n<script src="/relaycast/vendor/video.min.js"></script>',
  shaka: '<script src="/relaycast/vendor/shaka-player.compiled.js"></script>',
};

export function renderPlayerPage(o: PlayerPageOptions): string {
  const oneLine = o.relaycast ? '\n<script src="/relaycast/relaycast.js"></script>' : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)}</title>
<style>
body { margin: 0; background: #111; color: #ddd; font: 14px system-ui, sans-serif; }
video { display: block; width: 100%; max-width: 960px; margin: 0 auto; background: #000; }
#relaycast-stats { max-width: 960px; margin: 8px auto; padding: 0 8px; font-variant-numeric: tabular-nums; }
</style>
${VENDOR_TAGS[o.player]}${oneLine}
</head>
<body>
<video id="video"${o.player === 'video.js' ? ' class="video-js"' : ''} muted autoplay playsinline controls></video>
<div id="relaycast-stats">relaycast off</div>
<script>
const SRC = ${jsonForScript(o.src)};
const PROTOCOL = ${jsonForScript(o.protocol)};
const video = document.getElementById('video');${PLAYER_SCRIPTS[o.player]}
window.relaycastPlayer = { video, player, name: ${jsonForScript(o.player)} };
${STATS_SCRIPT}
</script>
</body>
</html>
`;
}

/** Shown at /watch without a usable ?src= in reverse-proxy mode. */
export function renderWatchUsage(reason: string): string {
  return `<!doctype html><meta charset="utf-8"><title>relaycast</title>
<p>${escapeHtml(reason)}</p>
<p>Usage: <code>/watch?src=/path/to/playlist.m3u8</code> (a path on this server, or an http(s) URL).
Add <code>&amp;relaycast=0</code> for the same page without relaycast, <code>&amp;player=hls.js|dash.js|video.js|shaka</code>
to pick the player.</p>
`;
}
