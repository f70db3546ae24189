/** What the broadcast page (origin-adapter/broadcast-page.ts) shows a person, read from a viewer's page. */
import type { Page } from 'playwright-core';
import { CHART_SERIES } from '../../origin-adapter/broadcast-page-script.js';

export interface PageState {
  /** The on-air badge: LIVE, OFFLINE or starting…. */
  readonly state: string;
  /** "3 viewers". */
  readonly viewers: string;
  /** The line under the chart. */
  readonly stats: string;
  /** Points in each chart line. */
  readonly points: number[];
}

// In-page code as source text: the test runner's transpiler would wrap named functions in a helper the page lacks.
const STATE_JS = `(keys) => ({
  state: document.getElementById('rc-state')?.textContent ?? '',
  viewers: document.getElementById('rc-viewers')?.textContent ?? '',
  stats: document.getElementById('relaycast-stats')?.textContent ?? '',
  points: keys.map((k) => (document.getElementById('rc-line-' + k)?.getAttribute('points') ?? '').split(' ').filter((p) => p !== '').length),
})`;

function isPageState(v: unknown): v is PageState {
  return typeof v === 'object' && v !== null && 'state' in v && typeof v.state === 'string' && 'viewers' in v && 'stats' in v && 'points' in v && Array.isArray(v.points);
}

export async function pageState(page: Page): Promise<PageState> {
  const v: unknown = await page.evaluate(`(${STATE_JS})(${JSON.stringify(CHART_SERIES.map((s) => s.key))})`);
  if (!isPageState(v)) throw new Error(`not a broadcast page: ${JSON.stringify(v)}`);
  return v;
}

/**
 * Pixels of each series' colour in the chart as the browser draws it: the SVG rendered into a
 * canvas, so a line that is there in the DOM but draws nothing (no points, off-scale) counts 0.
 */
const PIXELS_JS = `async (series) => {
  const svg = document.getElementById('rc-chart');
  if (svg === null) return {};
  const w = 600, h = 150;
  const xml = new XMLSerializer().serializeToString(svg).replace('<svg ', '<svg xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + h + '" ');
  const img = new Image();
  img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(xml);
  await img.decode();
  const c = document.createElement('canvas');
  c.width = w; c.height = h;
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const px = ctx.getImageData(0, 0, w, h).data;
  const out = {};
  for (const s of series) {
    const rgb = [1, 3, 5].map((i) => parseInt(s.color.slice(i, i + 2), 16));
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - rgb[0]) < 24 && Math.abs(px[i + 1] - rgb[1]) < 24 && Math.abs(px[i + 2] - rgb[2]) < 24) n++;
    out[s.key] = n;
  }
  return out;
}`;

export async function chartPixels(page: Page): Promise<Record<string, number>> {
  const v: unknown = await page.evaluate(`(${PIXELS_JS})(${JSON.stringify(CHART_SERIES.map((s) => ({ key: s.key, color: s.color })))})`);
  const out: Record<string, number> = {};
  if (typeof v === 'object' && v !== null) for (const [k, n] of Object.entries(v)) if (typeof n === 'number') out[k] = n;
  return out;
}

/** A full-size screenshot of the page (for a person to look at); returns its path. */
export async function screenshotPage(page: Page, path: string): Promise<string> {
  await page.setViewportSize({ width: 1000, height: 860 });
  await page.waitForTimeout(1500);
  await page.screenshot({ path, fullPage: true });
  return path;
}
