// Minimal inline-SVG charts for the load report (no dependency: two chart kinds, a few dozen lines).

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

const W = 720;
const H = 260;
const PAD = { l: 56, r: 16, t: 16, b: 36 };

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
const fmt = (v: number): string => (Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : Math.abs(v) >= 1e3 ? `${(v / 1e3).toFixed(0)}k` : `${+v.toFixed(2)}`);

function axes(xMax: number, yMin: number, yMax: number, xLabel: string, yLabel: string): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const x = (v: number): number => PAD.l + (v / xMax) * (W - PAD.l - PAD.r);
  const y = (v: number): number => H - PAD.b - ((v - yMin) / (yMax - yMin || 1)) * (H - PAD.t - PAD.b);
  const grid = ticks
    .map((f) => {
      const v = yMin + f * (yMax - yMin);
      return `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`;
    })
    .join('');
  const xt = ticks.map((f) => `<text x="${x(f * xMax)}" y="${H - PAD.b + 16}" text-anchor="middle">${fmt(f * xMax)}</text>`).join('');
  return `${grid}${xt}<text x="${W / 2}" y="${H - 4}" text-anchor="middle">${esc(xLabel)}</text><text x="12" y="${H / 2}" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">${esc(yLabel)}</text>`;
}

export function lineChart(series: readonly Series[], xLabel: string, yLabel: string, yRange?: [number, number]): string {
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p[0]));
  const yMin = yRange?.[0] ?? Math.min(0, ...all.map((p) => p[1]));
  const yMax = yRange?.[1] ?? Math.max(1, ...all.map((p) => p[1]));
  const x = (v: number): number => PAD.l + (v / xMax) * (W - PAD.l - PAD.r);
  const y = (v: number): number => H - PAD.b - ((Math.min(yMax, Math.max(yMin, v)) - yMin) / (yMax - yMin || 1)) * (H - PAD.t - PAD.b);
  const lines = series
    .map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${s.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`)
    .join('');
  const legend = series.map((s, i) => `<text x="${PAD.l + 8 + i * 170}" y="${PAD.t + 2}" fill="${s.color}">■ ${esc(s.name)}</text>`).join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" font-size="11" font-family="sans-serif">${axes(xMax, yMin, yMax, xLabel, yLabel)}${lines}${legend}</svg>`;
}

export function groupedBars(labels: readonly string[], groups: readonly { name: string; color: string; values: readonly number[] }[], yLabel: string): string {
  const yMax = Math.max(1, ...groups.flatMap((g) => g.values));
  const n = Math.max(1, labels.length);
  const slot = (W - PAD.l - PAD.r) / n;
  const bw = (slot * 0.8) / Math.max(1, groups.length);
  const y = (v: number): number => H - PAD.b - (v / yMax) * (H - PAD.t - PAD.b);
  const bars = groups
    .map((g, gi) =>
      g.values.map((v, i) => `<rect x="${(PAD.l + i * slot + slot * 0.1 + gi * bw).toFixed(1)}" y="${y(v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(H - PAD.b - y(v)).toFixed(1)}" fill="${g.color}"><title>${esc(`${g.name} ${labels[i] ?? ''}: ${fmt(v)}`)}</title></rect>`).join(''),
    )
    .join('');
  const xl = labels.map((l, i) => `<text x="${PAD.l + i * slot + slot / 2}" y="${H - PAD.b + 14}" text-anchor="middle">${esc(l)}</text>`).join('');
  const ticks = [0, 0.5, 1].map((f) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(f * yMax)}" y2="${y(f * yMax)}" stroke="#ddd"/><text x="${PAD.l - 6}" y="${y(f * yMax) + 4}" text-anchor="end">${fmt(f * yMax)}</text>`).join('');
  const legend = groups.map((g, i) => `<text x="${PAD.l + 8 + i * 150}" y="${PAD.t + 2}" fill="${g.color}">■ ${esc(g.name)}</text>`).join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" font-size="11" font-family="sans-serif">${ticks}${bars}${xl}${legend}<text x="12" y="${H / 2}" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">${esc(yLabel)}</text></svg>`;
}
