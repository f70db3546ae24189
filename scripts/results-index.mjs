// Writes docs/results/README.md: one row per result file, with the command that
// gives its scenario, the date it was committed and its headline numbers.
//   node scripts/results-index.mjs          write the index
//   node scripts/results-index.mjs --check  exit 1 if the index is not up to date
// Node built-ins only; git (for the dates) is optional.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIR = 'docs/results';
const OUT = join(DIR, 'README.md');

// Today's defaults of `npm run simulate` (sim/run.ts DEFAULT_SIM) and of the page
// (client/config.ts DEFAULT_CONFIG). A flag is printed where a result's recorded
// model differs from them, so the command gives that model with today's CLI.
const SIM_DEFAULTS = {
  bitrateMbps: 2.5,
  segmentSec: 2,
  uplinkMedianMbps: 20,
  uplinkSigma: 0.6,
  slowSharePct: 10,
  slowUplinkMbps: 1,
  downlinkMbps: 25,
  budgetMbps: 16,
  uplinkSharing: 'fair',
  wireChunkBytes: 65536,
  realBytesPerMediaSec: 2000,
  quantumMs: 1,
  rampSec: 10,
  maxPeers: 12,
  maxUploadsTotal: 8,
  maxUploadsPerPeer: 2,
  safetyMarginMs: 1000,
  maxHops: 8,
};

const fmt = (n, digits = 4) => (typeof n === 'number' && Number.isFinite(n) ? String(Number(n.toFixed(digits))) : '—');
const flag = (name, value) => (value === undefined ? `--${name}` : `--${name} ${value}`);

/** When the file was first committed, following renames; '—' without git. */
function committedDate(file) {
  try {
    const out = execFileSync('git', ['-C', ROOT, 'log', '--follow', '--diff-filter=A', '--format=%cs', '--', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const dates = out.split('\n').filter((l) => l.length > 0);
    return dates.length > 0 ? dates[dates.length - 1] : '—';
  } catch {
    return '—';
  }
}

/** `npm run load` flags that produce a load-tool result (defaults left out). */
function loadCommand(r) {
  const f = [flag('viewers', r.viewers), flag('duration', r.durationSec)];
  if (r.stream !== undefined) f.push(flag('player', r.stream.player), flag('protocol', r.stream.protocol));
  if (r.stream?.vod === true) f.push(flag('vod'));
  if (r.stream?.source === 'rtmp') f.push(flag('ingest'));
  if (r.p2p === false) f.push(flag('no-p2p'));
  const x = r.faults ?? {};
  if (x.malicious > 0) f.push(flag('malicious', x.malicious));
  if (x.churnPct > 0) f.push(flag('churn', x.churnPct));
  if (x.signalOutageSec > 0) f.push(flag('signal-outage', x.signalOutageSec));
  if (x.slowPeers > 0) f.push(flag('slow-peers', x.slowPeers));
  if (typeof r.bitrateKbps === 'number') f.push(flag('bitrate-kbps', r.bitrateKbps));
  const caps = r.lab?.uplinkMbps ?? [];
  if (caps.some((c) => c !== null)) f.push(flag('uplink-mbps', formatCaps(caps)));
  const nat = r.lab?.nat ?? [];
  if (nat.some((k) => k !== null)) f.push(flag('nat', formatNat(nat)));
  else if (r.lab && !caps.some((c) => c !== null)) f.push(flag('uplink-mbps', 'off'));
  const { relayOnly, ...otherOptions } = r.clientOptions ?? {};
  if (relayOnly === true) f.push(flag('relay-only'));
  if (Object.keys(otherOptions).length > 0) f.push(flag('client-options', `'${JSON.stringify(otherOptions)}'`));
  if (r.baseline !== undefined) f.push(flag('baseline'));
  if (r.baselineMode === 'concurrent') f.push(flag('concurrent'));
  return `npm run load -- ${f.join(' ')}`;
}

/** --uplink-mbps of a lab's caps: runs of one cap as counts (e2e/lab/uplink-spec.ts formatUplinks). */
function formatCaps(caps) {
  const out = [];
  for (let i = 0; i < caps.length; ) {
    let j = i;
    while (j < caps.length && caps[j] === caps[i]) j++;
    const v = caps[i] === null ? 'off' : String(caps[i]);
    out.push(j - i > 1 ? `${j - i}x${v}` : v);
    i = j;
  }
  return out.join(',');
}

/** --nat of a lab's NATs: one kind, mixed (every third symmetric), or one per viewer. */
function formatNat(nat) {
  if (nat.every((k) => k === nat[0])) return nat[0];
  if (nat.every((k, i) => k === (i % 3 === 2 ? 'symmetric' : 'cone'))) return 'mixed';
  return nat.map((k) => k ?? 'off').join(',');
}

/** `npm run simulate` flags that give a simulator result's recorded model. */
function simCommand(r) {
  const m = r.model;
  const d = SIM_DEFAULTS;
  const f = [flag('viewers', r.viewers), flag('duration', r.durationSec)];
  if (r.churnPctPerMin > 0) f.push(flag('churn', r.churnPctPerMin));
  if (r.noUploadShare > 0) f.push(flag('no-upload-share', r.noUploadShare));
  if (r.seed !== 1) f.push(flag('seed', r.seed));
  if (r.p2p === false) f.push(flag('baseline'));
  const warmupDefault = Math.min(30, r.durationSec / 3);
  if (Math.abs(m.windowSec[0] - warmupDefault) > 1e-9) f.push(flag('warmup', m.windowSec[0]));
  if (m.rampSec !== d.rampSec) f.push(flag('ramp', m.rampSec));
  if (m.bitrateMbps !== d.bitrateMbps) f.push(flag('bitrate-mbps', m.bitrateMbps));
  if (m.segmentSec !== d.segmentSec) f.push(flag('segment-sec', m.segmentSec));
  // "lognormal(median 20 Mbit/s, sigma 0.6); 10% at 1 Mbit/s"
  const up = /median ([\d.]+) Mbit\/s, sigma ([\d.]+)\); ([\d.]+)% at ([\d.]+) Mbit\/s/.exec(m.uplink ?? '');
  if (up !== null) {
    if (Number(up[1]) !== d.uplinkMedianMbps) f.push(flag('uplink-median-mbps', up[1]));
    if (Number(up[2]) !== d.uplinkSigma) f.push(flag('uplink-sigma', up[2]));
    if (Number(up[3]) !== d.slowSharePct) f.push(flag('slow-share', Number(up[3]) / 100));
    if (Number(up[4]) !== d.slowUplinkMbps && Number(up[3]) > 0) f.push(flag('slow-uplink-mbps', up[4]));
  }
  if (m.downlinkMbps !== d.downlinkMbps) f.push(flag('downlink-mbps', m.downlinkMbps));
  if (m.budgetMbps !== d.budgetMbps) f.push(flag('budget-mbps', m.budgetMbps));
  if (m.uplinkSharing !== d.uplinkSharing) f.push(flag('uplink-sharing', m.uplinkSharing));
  if (m.wireChunkBytes !== d.wireChunkBytes) f.push(flag('wire-chunk-bytes', m.wireChunkBytes));
  if (m.realBytesPerSegment !== d.realBytesPerMediaSec * m.segmentSec) f.push(flag('real-bytes', m.realBytesPerSegment));
  if (m.quantumMs !== d.quantumMs) f.push(flag('quantum-ms', m.quantumMs));
  if (m.maxPeers !== undefined && m.maxPeers !== d.maxPeers) f.push(flag('max-peers', m.maxPeers));
  const c = m.client ?? {};
  if (c.maxUploadsTotal !== undefined && c.maxUploadsTotal !== d.maxUploadsTotal) f.push(flag('max-uploads-total', c.maxUploadsTotal));
  if (c.maxUploadsPerPeer !== undefined && c.maxUploadsPerPeer !== d.maxUploadsPerPeer) f.push(flag('max-uploads-per-peer', c.maxUploadsPerPeer));
  if (c.safetyMarginMs !== undefined && c.safetyMarginMs !== d.safetyMarginMs) f.push(flag('safety-margin-ms', c.safetyMarginMs));
  if (c.maxHops !== undefined && c.maxHops !== d.maxHops) f.push(flag('max-hops', c.maxHops));
  if (c.relayWhileReceiving === false) f.push(flag('no-relay-while-receiving'));
  return `npm run simulate -- ${f.join(' ')}`;
}

/** Stream of a load result. Results without `stream` predate the player matrix: hls.js on the MPEG-TS source. */
function streamOf(r) {
  if (r.stream === undefined) return 'hls.js, MPEG-TS HLS¹';
  return `${r.stream.player}, ${r.stream.protocol.toUpperCase()}${r.stream.vod ? ' VOD' : ' live'}${r.stream.source === 'rtmp' ? ', pushed over RTMP' : ''}`;
}

function loadRow(file, r) {
  const vod = r.stream?.vod === true;
  const wholeRun = r.originSegmentBytes !== null && r.segmentBytesToPlayers > 0 ? 1 - r.originSegmentBytes / r.segmentBytesToPlayers : null;
  const offload = r.p2p === false ? `— (no P2P)` : vod ? `${wholeRun === null ? '—' : wholeRun.toFixed(2)} whole run²` : `${fmt(r.offload)} (${fmt(r.bound)})`;
  const stalls = `${r.stalls} (${fmt(r.stalledSec, 2)} s)`;
  const latency = vod ? '—' : fmt(r.latencySecMedian, 2);
  const clock = r.mediaClockRate === undefined || r.mediaClockRate === null ? '—' : fmt(r.mediaClockRate, 3);
  const corrupted = `${r.corruptedDelivered} of ${r.segmentsChecked}`;
  const b = r.baseline;
  const baseline = b === undefined ? '—' : `${b.stalls} (${fmt(b.stalledSec, 2)} s), ${b.notPlaying}, ${vod ? '—' : fmt(b.latencySecMedian, 2)}`;
  const html = file.replace(/\.json$/, '.html');
  const name = existsSync(join(ROOT, DIR, html)) ? `[${file}](${file}) ([report](${html}))` : `[${file}](${file})`;
  return [name, `\`${loadCommand(r)}\``, committedDate(join(DIR, file)), streamOf(r), offload, stalls, String(r.notPlaying), latency, clock, corrupted, baseline];
}

function simRow(file, r) {
  const code = r.code === null || r.code === undefined ? '—' : `\`${r.code.commit}\`${r.code.modified.length > 0 ? '³' : ''}`;
  const offload = r.p2p === false ? `${fmt(r.offload)} (no P2P)` : `${fmt(r.offload)} (${fmt(r.bound)})`;
  return [
    `[${file}](${file})`,
    `\`${simCommand(r)}\``,
    committedDate(join(DIR, file)),
    code,
    offload,
    fmt(r.continuity),
    `${fmt(r.lagSecP50, 2)} / ${fmt(r.lagSecP95, 2)}`,
    `${fmt(r.wallSec, 0)} s`,
  ];
}

const table = (head, rows) =>
  [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function render() {
  const files = readdirSync(join(ROOT, DIR))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((f) => `${f}.json`);
  const load = [];
  const sim = [];
  for (const file of files) {
    const r = JSON.parse(readFileSync(join(ROOT, DIR, file), 'utf8'));
    if (r.virtual === true) sim.push(simRow(file, r));
    else load.push(loadRow(file, r));
  }
  return `# Results

Generated by \`npm run results:index\` (\`node scripts/results-index.mjs\`) from the JSON files in
this folder; do not edit by hand. Run it again after adding or replacing a result;
\`node scripts/results-index.mjs --check\` fails when this file is out of date.

One file per scenario, the latest run of it, named by scenario. To replace one, run its command
with \`--json docs/results/FILE\` (and \`--report docs/results/FILE.html\` where a report is kept).
What the numbers mean: [measurement.md](../measurement.md) (load tool) and
[sim/README.md](../../sim/README.md#output) (simulator). The date is the day the file was first
committed (git, following renames).

## Browser runs (\`npm run load\`, Chromium on the 2-core development machine)

${table(
  ['file', 'command', 'date', 'stream', 'offload (bound)', 'stalls (stalled)', 'not playing', 'latency median s', 'mediaClockRate', 'corrupted delivered', 'baseline: stalls, not playing, latency'],
  load,
)}

¹ Recorded before results carried \`stream\`: the embedded source then published MPEG-TS HLS, played by
hls.js. The same command now plays the DASH + fMP4 HLS source.
² 1 − \`originSegmentBytes\` / \`segmentBytesToPlayers\` of the file, which is what \`offload\` means for
\`--vod\` now; these files' own \`offload\` field is a late window, measured before the tool counted VOD
over the whole run.

## Simulator runs (\`npm run simulate\`, virtual time)

${table(['file', 'command', 'date', 'client code', 'offload (bound)', 'continuity', 'lag p50 / p95 s', 'wall'], sim)}

The command gives the file's recorded model with today's defaults, so a run on older client code
may list flags that were that code's defaults (\`--safety-margin-ms 1500\`, \`--real-bytes 52000\`).
"client code" is the file's \`code.commit\`; ³ with uncommitted changes to the files in \`code.modified\`.
`;
}

const text = render();
if (process.argv.includes('--check')) {
  const current = existsSync(join(ROOT, OUT)) ? readFileSync(join(ROOT, OUT), 'utf8') : '';
  if (current !== text) {
    console.error(`${OUT} is out of date: run npm run results:index`);
    process.exit(1);
  }
} else {
  writeFileSync(join(ROOT, OUT), text);
  console.log(`${OUT}: ${text.split('\n').length} lines`);
}
