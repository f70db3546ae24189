// npm run load -- --viewers N --duration S [--no-p2p] [--baseline [--concurrent]] [--url PAGE] [--json FILE] [--report FILE]
//                 [--malicious K] [--churn PCT] [--signal-outage S] [--slow-peers K] [--attack]
//                 [--player hls.js|dash.js|video.js|shaka] [--protocol hls|dash] [--vod] [--renditions N]
//                 [--uplink-mbps SPEC] [--bitrate-kbps K] [--ingest] [--nodes 2 [--kill-node-at S]]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { failWith, intArg, jsonObjectArg, readArgs } from '../support/cli-args.js';
import { renderReport } from './report.js';
import { isPlayerName, PLAYER_PROTOCOLS, PLAYERS } from '../../origin-adapter/player-page.js';
import { DEFAULT_LOAD_OPTIONS, runLoad } from './run.js';
import { coturnUnavailable } from '../lab/coturn.js';
import { parseNatSpec, type NatKind } from '../lab/nat-plan.js';
import { labUnavailable } from '../lab/netlab.js';
import { parseUplinkSpec, type UplinkCap } from '../lab/uplink-spec.js';

const USAGE = `usage: npm run load -- --viewers N --duration S [options]
  --viewers N         isolated browser contexts (default 4); each decodes video: on 2 cores keep N <= 10
  --duration S        seconds from the first viewer opening (default 60)
  --no-p2p            no service worker and no relaycast script on the page (a site without relaycast)
  --baseline          after the P2P run, the same run without P2P; its JSON goes under "baseline"
  --concurrent        with --baseline: run it at the same time instead (its own adapter and browser), so both
                      runs see the same machine load; in the network lab (--uplink-mbps, --nat) its viewers get
                      namespaces of their own with the same caps and NATs
  --url PAGE          player page to load instead of the embedded demo
  --player P          the embedded page's player: hls.js (default), dash.js, video.js, shaka; a comma-separated
                      list gives the viewers those players in turn (several players in one swarm)
  --protocol X        hls or dash (default: the player's first: dash for dash.js, hls otherwise)
  --vod               the embedded VOD asset (byte-range segments) instead of the live stream; offload is
                      then over the whole run (players fill their buffers from the start); keep --duration
                      below the asset's length (60 s by default)
  --renditions N      the embedded source's ABR ladder, 1-3 video renditions (default 1)
  --client-options J  JSON object set as window.relaycastOptions in every P2P viewer (e.g. '{"maxPeers":4}')
  --json FILE         also write the JSON result to FILE
  --report FILE       write an HTML report with plots (offload over time, bytes per viewer, latency)
  --malicious K       K viewers upload corrupted, truncated and wrong-segment bytes
  --churn PCT         PCT% of the viewers leave and as many join every 20 s
  --signal-outage S   signaling and tracker stopped for S seconds mid-run (embedded adapter)
  --slow-peers K      K viewers with their upload throttled to 24 kB/s (about a third of the stream's bitrate)
  --attack            run the attack suite (npm run attack) against the embedded adapter while the viewers play;
                      the JSON gets an "attack" object (probes, adapterRssGrowthMB, refusals, failed checks)
  --stagger-ms M      delay between viewers opening (default ${DEFAULT_LOAD_OPTIONS.staggerMs})
  --warmup S          seconds after all viewers play before the steady window (default ${DEFAULT_LOAD_OPTIONS.warmupSec})
  --bitrate-kbps K    the embedded live video at a constant K kbit/s with filler (320x180, x264 CBR): HD-sized
                      segments, cheap to decode (default: 250 kbit/s, not constant)
  --uplink-mbps SPEC  network lab (Linux, root): every viewer's Chromium in its own network namespace on a host
                      bridge, its upload capped by tc tbf; the baseline runs with the same caps. SPEC is one cap
                      for all (4.5), one per viewer in opening order (4.5,4.5,9,2), counts (2x9,4x4.5), and
                      "off" for a viewer in the lab without a cap (off, 2xoff,2x4.5). Each capped viewer's
                      upload is timed (1 MB to the host) before the run. Embedded adapter only (no --url).
                      The lab has no route off the machine, is removed at the end, on SIGINT/SIGTERM and on
                      errors, and a crashed run's lab is removed at the next start
  --nat SPEC          network lab (Linux, root, nftables): every viewer behind a home router namespace that NATs it:
                      cone (endpoint-independent mapping), symmetric (a random port per destination), mixed
                      (every third viewer symmetric), or one kind per viewer (cone,symmetric,off). coturn runs on
                      the lab's bridge for STUN and TURN; the adapter hands pages expiring TURN credentials.
                      The JSON gets "candidates" (connections by route) and the lab's per-router UDP bytes.
                      Combines with --uplink-mbps
  --relay-only        P2P viewers use TURN relays only (relayOnly; needs --nat for coturn)
  --ingest            the stream is pushed over RTMP (FLV, H.264/AAC, 2 s keyframes, as OBS sends it) by an ffmpeg
                      the run starts, to an adapter with the RTMP ingest; the pusher burns its wall clock into the
                      picture and the pages read it back: the JSON gets "pusherLatency" (pusher's clock to screen).
                      --bitrate-kbps sets the pusher's video bitrate (default 500)
  --nodes 2           a second signaling node (its own process, signaling and tracker only) sharing a Redis
                      with the embedded adapter; P2P viewers alternate between the two nodes
  --kill-node-at S    with --nodes 2: the second node is killed (SIGKILL) S seconds into the run; the JSON's
                      events say when (node-killed) and when every viewer signaled through the other (node-back)`;

function fail(msg: string): never {
  return failWith(USAGE, msg);
}
const int = (name: string, v: string | undefined, dflt: number, min = 0): number => intArg(USAGE, name, v, dflt, min);

const args = readArgs(USAGE, () =>
  parseArgs({
    options: {
      viewers: { type: 'string' },
      duration: { type: 'string' },
      'no-p2p': { type: 'boolean', default: false },
      baseline: { type: 'boolean', default: false },
      concurrent: { type: 'boolean', default: false },
      url: { type: 'string' },
      json: { type: 'string' },
      report: { type: 'string' },
      malicious: { type: 'string' },
      churn: { type: 'string' },
      'signal-outage': { type: 'string' },
      'slow-peers': { type: 'string' },
      'stagger-ms': { type: 'string' },
      warmup: { type: 'string' },
      player: { type: 'string' },
      protocol: { type: 'string' },
      vod: { type: 'boolean', default: false },
      renditions: { type: 'string' },
      'client-options': { type: 'string' },
      'uplink-mbps': { type: 'string' },
      nat: { type: 'string' },
      'relay-only': { type: 'boolean', default: false },
      'bitrate-kbps': { type: 'string' },
      attack: { type: 'boolean', default: false },
      ingest: { type: 'boolean', default: false },
      nodes: { type: 'string' },
      'kill-node-at': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values,
);
const viewers = int('viewers', args.viewers, 4, 1);
const malicious = int('malicious', args.malicious, 0);
const slowPeers = int('slow-peers', args['slow-peers'], 0);
const churnPct = int('churn', args.churn, 0);
if (churnPct > 100) fail('--churn is a percentage (0..100)');
if (malicious + slowPeers >= viewers) fail('--malicious + --slow-peers must leave at least one honest viewer');
if (args.url && args['signal-outage']) fail('--signal-outage needs the embedded adapter (no --url)');
if (args.url && args.attack) fail('--attack needs the embedded adapter (no --url); attack your own deployment with npm run attack');
const players = (args.player ?? DEFAULT_LOAD_OPTIONS.player).split(',').map((p) => p.trim());
for (const p of players) if (!isPlayerName(p)) fail(`--player must be one of ${PLAYERS.join(', ')} (or a comma-separated list of them)`);
const playerNames = players.filter(isPlayerName);
const player = playerNames[0] ?? DEFAULT_LOAD_OPTIONS.player;
const protocol = args.protocol ?? PLAYER_PROTOCOLS[player][0];
for (const p of playerNames) if (!PLAYER_PROTOCOLS[p].some((x) => x === protocol)) fail(`${p} plays ${PLAYER_PROTOCOLS[p].join(' or ')}, not ${String(protocol)}`);
if (args.concurrent && !args.baseline) fail('--concurrent needs --baseline');
const renditions = int('renditions', args.renditions, 1, 1);
let clientOptions = jsonObjectArg(USAGE, 'client-options', args['client-options']);
if (renditions > 3) fail('--renditions must be 1, 2 or 3');
const bitrateKbps = args['bitrate-kbps'] === undefined ? undefined : int('bitrate-kbps', args['bitrate-kbps'], 0, 50);
if (bitrateKbps !== undefined && !args.ingest && (args.url || renditions !== 1)) fail('--bitrate-kbps needs the embedded source with one rendition (no --url, --renditions 1), or --ingest');
if (args.ingest && (args.url || args.vod || args['uplink-mbps'] !== undefined || args.nat !== undefined)) fail('--ingest starts its own adapter on loopback: not with --url, --vod, --uplink-mbps or --nat');
let uplinkMbps: UplinkCap[] | undefined;
if (args['uplink-mbps'] !== undefined) {
  if (args.url) fail('--uplink-mbps needs the embedded adapter (no --url)');
  const caps = parseUplinkSpec(args['uplink-mbps'], viewers);
  if ('error' in caps) fail(`--uplink-mbps: ${caps.error}`);
  const unavailable = labUnavailable();
  if (unavailable !== null) fail(`--uplink-mbps: ${unavailable}`);
  uplinkMbps = caps;
}

let nat: (NatKind | null)[] | undefined;
if (args.nat !== undefined) {
  if (args.url) fail('--nat needs the embedded adapter (no --url)');
  const kinds = parseNatSpec(args.nat, viewers);
  if ('error' in kinds) fail(`--nat: ${kinds.error}`);
  const unavailable = labUnavailable() ?? coturnUnavailable();
  if (unavailable !== null) fail(`--nat: ${unavailable}`);
  nat = kinds;
}
const signalNodes = int('nodes', args.nodes, 1, 1);
if (signalNodes > 2) fail('--nodes must be 1 or 2');
if (signalNodes > 1 && (args.url || args['uplink-mbps'] !== undefined || args.nat !== undefined)) fail('--nodes 2 needs the embedded adapter on loopback (no --url, --uplink-mbps, --nat)');
if (args['kill-node-at'] !== undefined && signalNodes < 2) fail('--kill-node-at needs --nodes 2');
if (args['relay-only']) {
  if (!nat) fail('--relay-only needs a TURN server: run it with --nat (coturn in the lab)');
  clientOptions = { ...clientOptions, relayOnly: true };
}

const result = await runLoad({
  ...DEFAULT_LOAD_OPTIONS,
  viewers,
  durationSec: int('duration', args.duration, 60, 1),
  p2p: !args['no-p2p'],
  baseline: args.baseline,
  ...(args.concurrent ? { baselineMode: 'concurrent' as const } : {}),
  ...(args.url ? { url: args.url } : {}),
  malicious,
  churnPct,
  signalOutageSec: int('signal-outage', args['signal-outage'], 0),
  slowPeers,
  staggerMs: int('stagger-ms', args['stagger-ms'], DEFAULT_LOAD_OPTIONS.staggerMs),
  warmupSec: int('warmup', args.warmup, DEFAULT_LOAD_OPTIONS.warmupSec),
  player,
  ...(playerNames.length > 1 ? { players: playerNames } : {}),
  protocol: protocol === 'dash' ? 'dash' : 'hls',
  vod: args.vod,
  adapter: { renditions, ...(bitrateKbps !== undefined ? { bitrateKbps } : {}) },
  ...(clientOptions ? { clientOptions } : {}),
  ...(uplinkMbps ? { uplinkMbps } : {}),
  ...(nat ? { nat } : {}),
  attack: args.attack,
  ingest: args.ingest,
  signalNodes,
  ...(args['kill-node-at'] !== undefined ? { killNodeAtSec: int('kill-node-at', args['kill-node-at'], 0) } : {}),
  progress: (line) => process.stderr.write(`[load] ${line}\n`),
});
const json = JSON.stringify(result, null, 2);
if (args.json) writeFileSync(args.json, `${json}\n`);
if (args.report) {
  writeFileSync(args.report, renderReport(result));
  process.stderr.write(`[load] report: ${args.report}\n`);
}
console.log(json);
