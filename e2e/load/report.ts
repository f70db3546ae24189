import type { LoadResult } from './metrics.js';
import { groupedBars, lineChart, type Series } from './svg.js';

/** Offload between successive polls, smoothed over `span` polls: how close to the bound the swarm ran over time. */
function offloadOverTime(r: LoadResult, span = 5): [number, number][] {
  const t = r.timeline;
  const out: [number, number][] = [];
  for (let i = span; i < t.length; i++) {
    const a = t[i - span]!;
    const b = t[i]!;
    const toPlayers = b.segmentBytesToPlayers - a.segmentBytesToPlayers;
    if (a.originSegmentBytes === null || b.originSegmentBytes === null || toPlayers <= 0) continue;
    out.push([b.tSec, 1 - (b.originSegmentBytes - a.originSegmentBytes) / toPlayers]);
  }
  return out;
}

const row = (k: string, p2p: unknown, base: unknown): string => `<tr><th>${k}</th><td>${String(p2p)}</td><td>${String(base ?? '—')}</td></tr>`;

/** A self-contained HTML report of one load run (and its baseline, when there is one). */
export function renderReport(r: LoadResult): string {
  const b = r.baseline;
  const offload: Series[] = [
    { name: 'offload (P2P)', color: '#1b7f3b', points: offloadOverTime(r) },
    { name: `bound 1 − 1/${r.viewers}`, color: '#888', dashed: true, points: [[0, r.bound], [r.durationSec, r.bound]] },
  ];
  if (b) offload.push({ name: 'offload (no P2P)', color: '#c0392b', points: offloadOverTime(b) });
  const labels = r.perViewer.map((v) => `${v.id}${v.player !== undefined && r.stream?.player.includes(',') ? ` ${v.player}` : ''}${v.role === 'honest' ? '' : ` ${v.role}`}`);
  const bytes = groupedBars(
    labels,
    [
      { name: 'from peers', color: '#1b7f3b', values: r.perViewer.map((v) => v.peerBytes) },
      { name: 'from origin', color: '#c0392b', values: r.perViewer.map((v) => v.originBytes) },
      { name: 'uploaded', color: '#2c6fbb', values: r.perViewer.map((v) => v.uploadedBytes) },
    ],
    'bytes',
  );
  const latency = b
    ? groupedBars(
        labels,
        [
          { name: 'latency P2P (s)', color: '#1b7f3b', values: r.perViewer.map((v) => v.latencySecMedian ?? 0) },
          { name: 'latency no P2P (s)', color: '#c0392b', values: b.perViewer.map((v) => v.latencySecMedian ?? 0) },
        ],
        'seconds behind live edge',
      )
    : groupedBars(labels, [{ name: 'latency (s)', color: '#1b7f3b', values: r.perViewer.map((v) => v.latencySecMedian ?? 0) }], 'seconds behind live edge');
  const fields: (keyof LoadResult)[] = [
    'viewers', 'viewersTotal', 'durationSec', 'offload', 'bound', 'stalls', 'stalledSec', 'notPlaying', 'latencySecMedian', 'mediaClockRate',
    'originSegmentBytes', 'segmentBytesToPlayers', 'peerSegmentBytes', 'corruptedDelivered', 'rejectedSegments', 'bannedPeers', 'errors',
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>relaycast load report</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:780px}table{border-collapse:collapse}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}h2{margin-top:28px}</style>
</head><body>
<h1>relaycast load report</h1>
<p>${r.viewers} viewers, ${r.durationSec} s, faults ${JSON.stringify(r.faults)}. Offload is counted at the origin against the bytes players received (steady window ${r.window.startSec}–${r.window.endSec} s).</p>
<table><tr><th></th><th>P2P</th><th>no P2P</th></tr>${fields.map((f) => row(f, r[f], b?.[f])).join('')}</table>
<h2>Offload over time</h2>${lineChart(offload, 'seconds', 'offload', [-0.2, 1])}
<h2>Bytes per viewer</h2>${bytes}
<h2>Latency behind the live edge</h2>${latency}
<p>Stalls: P2P ${r.stalls} (${r.stalledSec} s)${b ? `, no P2P ${b.stalls} (${b.stalledSec} s)` : ''}.</p>
</body></html>
`;
}
