/**
 * The broadcast page's own script (inline, no library): the on-air state and viewer count from
 * /relaycast/broadcast every 2 s, the player started once the stream is live (not before: there
 * is no stream to load), and a chart of this viewer's bytes per second from peers, from the
 * origin and uploaded, drawn as SVG from `relaycast.stats()` once a second over the last minute.
 */

/** Seconds of history in the chart. */
export const CHART_SECONDS = 60;
export const CHART_SERIES = [
  { key: 'peerBytes', label: 'from peers', color: '#4caf50' },
  { key: 'originBytes', label: 'from the origin', color: '#ff9800' },
  { key: 'uploadedBytes', label: 'uploaded', color: '#42a5f5' },
] as const;

export const BROADCAST_SCRIPT = `
function fmtBytes(n) {
  if (!(n >= 0)) return '0 B';
  if (n < 1000) return Math.round(n) + ' B';
  if (n < 1e6) return (n / 1e3).toFixed(1) + ' kB';
  if (n < 1e9) return (n / 1e6).toFixed(2) + ' MB';
  return (n / 1e9).toFixed(2) + ' GB';
}
const $ = (id) => document.getElementById(id);
let started = false;
let onAir = false;
// Armed when the stream comes back after the page saw it away, once the video had played.
let played = false, armed = false, armedAtMs = 0, reloadedAtMs = 0, prevTime = 0, moving = 0;
video.addEventListener('playing', () => { played = true; });
window.relaycastPage = { reloads: 0 };
function showState(s) {
  const el = $('rc-state');
  const live = s.state === 'live';
  el.textContent = live ? 'LIVE' : s.state === 'starting' ? 'starting…' : 'OFFLINE';
  el.className = 'state ' + (live ? 'live' : 'off');
  document.body.dataset.state = s.state;
  $('rc-viewers').textContent = s.viewers + (s.viewers === 1 ? ' viewer' : ' viewers');
  $('rc-note').textContent = live ? '' : s.state === 'offline'
    ? 'The broadcast is offline: waiting for the streamer. The video resumes by itself when it is back.'
    : s.state === 'starting' ? 'The streamer is connecting…' : 'Not live yet: waiting for the streamer. The video starts by itself.';
  if (live && !onAir && started && played) { armed = true; armedAtMs = Date.now(); moving = 0; }
  onAir = live;
  if (live && !started) { started = true; startPlayer(); }
}
// A player should play on once the stream is back; one that has not moved STUCK_MS after that is
// given the stream again (reloadPlayer), at most once every STUCK_MS, until it plays.
const STUCK_MS = 12000;
setInterval(() => {
  // Playing means moving steadily (a seek that jumps ahead is not playing).
  const step = video.currentTime - prevTime;
  prevTime = video.currentTime;
  moving = step > 0.5 && step < 5 ? moving + 1 : 0;
  if (!armed || !onAir) return;
  if (moving >= 3) { armed = false; return; }
  const now = Date.now();
  if (now - armedAtMs > STUCK_MS && now - reloadedAtMs > STUCK_MS) {
    reloadedAtMs = now;
    window.relaycastPage.reloads++;
    reloadPlayer();
  }
}, 2000);
async function pollState() {
  try {
    const r = await fetch('/relaycast/broadcast', { cache: 'no-store' });
    if (r.ok) showState(await r.json());
  } catch (e) {}
}
showState(INITIAL);
setInterval(pollState, 2000);

const SERIES = ${JSON.stringify(CHART_SERIES)};
const history = [], raw = [], SMOOTH = 4;
let last = null;
const W = 600, H = 150, N = ${CHART_SECONDS};
function niceMax(v) {
  const min = 1000;
  if (v <= min) return min;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
function drawChart() {
  const max = niceMax(Math.max(0, ...history.flatMap((h) => SERIES.map((s) => h[s.key]))));
  for (const s of SERIES) {
    const pts = history.map((h, i) => ((N - history.length + i) * (W / (N - 1))).toFixed(1) + ',' + (H - (h[s.key] / max) * H).toFixed(1));
    $('rc-line-' + s.key).setAttribute('points', pts.join(' '));
  }
  $('rc-ymax').textContent = fmtBytes(max) + '/s';
}
function sampleStats() {
  const rc = window.relaycast;
  let s = null;
  try { s = rc && typeof rc.stats === 'function' ? rc.stats() : null; } catch (e) { s = null; }
  if (!s) { $('relaycast-stats').textContent = 'relaycast off: this page plays from the origin only'; return; }
  if (last !== null) {
    const h = {};
    const r = {};
    for (const x of SERIES) r[x.key] = Math.max(0, (s[x.key] || 0) - (last[x.key] || 0));
    raw.push(r);
    if (raw.length > SMOOTH) raw.shift();
    // Segments arrive every few seconds: the rate is averaged over the last SMOOTH seconds.
    for (const x of SERIES) h[x.key] = raw.reduce((n, r) => n + r[x.key], 0) / raw.length;
    history.push(h);
    if (history.length > N) history.shift();
    drawChart();
    for (const x of SERIES) $('rc-now-' + x.key).textContent = fmtBytes(h[x.key]) + '/s';
  }
  last = s;
  $('relaycast-stats').textContent = 'connected to ' + (s.peers || 0) + ((s.peers || 0) === 1 ? ' other viewer' : ' other viewers') +
    ' · in all: from peers ' + fmtBytes(s.peerBytes) + ', from the origin ' + fmtBytes(s.originBytes) + ', uploaded ' + fmtBytes(s.uploadedBytes);
}
setInterval(sampleStats, 1000);

$('rc-share').value = location.origin + location.pathname;
$('rc-copy').addEventListener('click', () => {
  const input = $('rc-share');
  input.select();
  const done = () => { $('rc-copy').textContent = 'copied'; setTimeout(() => { $('rc-copy').textContent = 'copy link'; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(input.value).then(done, () => {});
  else { try { document.execCommand('copy'); done(); } catch (e) {} }
});`;
