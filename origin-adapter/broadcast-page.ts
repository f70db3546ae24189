/**
 * The page the adapter generates for its stream (`/watch/<stream>`): title, on air or not,
 * viewers now, a share link, the player (hls.js, dash.js, video.js or Shaka at their defaults,
 * as on the plain player page) and a live chart of this viewer's bytes from peers, from the
 * origin and uploaded. The video is the page's first `<video>`; `window.relaycastPlayer` is set
 * once the player starts.
 */
import { BROADCAST_SCRIPT, CHART_SERIES } from './broadcast-page-script.js';
import type { BroadcastAnswer } from './broadcast-status.js';
import { escapeHtml, jsonForScript, PLAYER_SCRIPTS, VENDOR_TAGS, type PlayerName, type StreamProtocol } from './player-page.js';

export interface BroadcastPageOptions {
  readonly src: string;
  readonly player: PlayerName;
  readonly protocol: StreamProtocol;
  /** False renders the same page without the relaycast script (baseline, `?relaycast=0`). */
  readonly relaycast: boolean;
  /** The status at render time: a live stream's player starts without waiting for a poll. */
  readonly status: BroadcastAnswer;
}

/**
 * Loading the stream again in a player that is stuck after the source came back (the page is not
 * reloaded). hls.js, dash.js and video.js resume by themselves; Shaka (HLS, at times DASH) moves
 * its seek range by the wall clock while the manifest stands still, jumps past the old segments
 * and sometimes stays there with an empty buffer.
 */
const RELOAD_SCRIPTS: Readonly<Record<PlayerName, string>> = {
  'hls.js': 'p.loadSource(SRC);',
  'dash.js': 'p.attachSource(SRC);',
  'video.js': "p.src({ src: SRC, type: PROTOCOL === 'dash' ? 'application/dash+xml' : 'application/x-mpegURL' }); p.play();",
  shaka: 'p.load(SRC).then(() => video.play().catch(() => {}), () => {});',
};

const STYLE = `
body { margin: 0; background: #111; color: #ddd; font: 14px system-ui, sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 8px; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; margin-bottom: 8px; }
h1 { font-size: 20px; margin: 0; flex: 1 1 auto; }
.state { font-weight: bold; padding: 2px 8px; border-radius: 4px; }
.state.live { background: #c62828; color: #fff; }
.state.off { background: #555; color: #eee; }
.share { display: flex; gap: 4px; }
.share input { width: 260px; background: #222; color: #ddd; border: 1px solid #444; padding: 2px 4px; }
.stage { position: relative; }
video { display: block; width: 100%; background: #000; aspect-ratio: 16 / 9; }
#rc-note { position: absolute; left: 0; right: 0; top: 40%; text-align: center; font-size: 16px; pointer-events: none; }
body[data-state="live"] #rc-note { display: none; }
.chart { margin-top: 8px; }
.chart svg { width: 100%; height: 150px; background: #181818; border: 1px solid #333; }
.legend { display: flex; flex-wrap: wrap; gap: 16px; margin: 4px 0; font-variant-numeric: tabular-nums; }
.legend i { display: inline-block; width: 12px; height: 3px; vertical-align: middle; margin-right: 4px; }
#relaycast-stats { font-variant-numeric: tabular-nums; color: #aaa; }`;

function chart(): string {
  const lines = CHART_SERIES.map((s) => `<polyline id="rc-line-${s.key}" fill="none" stroke="${s.color}" stroke-width="2" points=""/>`).join('');
  const legend = CHART_SERIES.map((s) => `<span><i style="background:${s.color}"></i>${s.label} <b id="rc-now-${s.key}">–</b></span>`).join('');
  return `<section class="chart" aria-label="bytes per second, last minute">
<div class="legend">${legend}<span>scale <b id="rc-ymax">–</b></span></div>
<svg id="rc-chart" viewBox="0 0 600 150" preserveAspectRatio="none">${lines}</svg>
<div id="relaycast-stats">relaycast off</div>
</section>`;
}

export function renderBroadcastPage(o: BroadcastPageOptions): string {
  const oneLine = o.relaycast ? '\n<script src="/relaycast/relaycast.js"></script>' : '';
  const title = escapeHtml(o.status.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · relaycast</title>
<style>${STYLE}</style>
${VENDOR_TAGS[o.player]}${oneLine}
</head>
<body data-state="${escapeHtml(o.status.state)}">
<main>
<header>
<h1>${title}</h1>
<span id="rc-state" class="state">–</span>
<span id="rc-viewers">–</span>
<span class="share"><input id="rc-share" readonly aria-label="share link"><button id="rc-copy" type="button">copy link</button></span>
</header>
<div class="stage">
<video id="video"${o.player === 'video.js' ? ' class="video-js"' : ''} muted autoplay playsinline controls></video>
<div id="rc-note"></div>
</div>
${chart()}
</main>
<script>
const SRC = ${jsonForScript(o.src)};
const PROTOCOL = ${jsonForScript(o.protocol)};
const INITIAL = ${jsonForScript(o.status)};
const video = document.getElementById('video');
function startPlayer() {${PLAYER_SCRIPTS[o.player]}
window.relaycastPlayer = { video, player, name: ${jsonForScript(o.player)} };
}
function reloadPlayer() {
  const p = window.relaycastPlayer && window.relaycastPlayer.player;
  if (p) { try { ${RELOAD_SCRIPTS[o.player]} } catch (e) {} }
}
${BROADCAST_SCRIPT}
</script>
</body>
</html>
`;
}
