/**
 * Latency from the streamer's clock to the viewer's screen. The pusher burns its wall clock into
 * each frame (e2e/support/pusher.ts, CLOCK); this init script reads it back from the frame the
 * page presents: on a presented frame (requestVideoFrameCallback, about twice a second) it draws
 * the top rows of the first `<video>` to a canvas, reads the 32 blocks and compares the time
 * they carry with the time the frame was shown. Pusher and viewers share one machine (one
 * clock) in tests and load runs; across machines the two clocks' offset would add in.
 */
import { CLOCK } from './pusher.js';

export const CLOCK_PROBE_SCRIPT = `(() => {
  const BITS = ${CLOCK.bits}, BLOCK = ${CLOCK.blockPx}, ROWS = ${CLOCK.rowsPx}, WRAP = 2 ** 32;
  const m = { samples: [], unreadable: 0 };
  window.__clockProbe = m;
  let canvas = null, ctx = null, lastAt = 0;
  const read = (video, shownAtMs) => {
    const w = video.videoWidth;
    if (!w) return;
    if (canvas === null) {
      canvas = document.createElement('canvas');
      canvas.width = w; canvas.height = ROWS;
      ctx = canvas.getContext('2d', { willReadFrequently: true });
    }
    ctx.drawImage(video, 0, 0, w, ROWS, 0, 0, w, ROWS);
    const px = ctx.getImageData(0, 0, w, ROWS).data;
    const scale = w / 320;
    let value = 0;
    for (let k = 0; k < BITS; k++) {
      const x = Math.floor((k * BLOCK + BLOCK / 2) * scale), y = ROWS >> 1;
      if (px[(y * w + x) * 4] > 128) value += 2 ** k;
    }
    // The clock is modulo 2^32 ms: unwrap against the viewer's own clock.
    const capturedMs = shownAtMs - ((((shownAtMs - value) % WRAP) + WRAP) % WRAP);
    const latencyMs = shownAtMs - capturedMs;
    if (latencyMs >= 0 && latencyMs < 120000) { if (m.samples.length < 2000) m.samples.push(latencyMs / 1000); }
    else m.unreadable++;
  };
  const watch = (video) => {
    const onFrame = (_now, meta) => {
      const shownAt = performance.timeOrigin + (meta && meta.expectedDisplayTime ? meta.expectedDisplayTime : performance.now());
      if (shownAt - lastAt >= 500) { lastAt = shownAt; try { read(video, shownAt); } catch (e) { m.unreadable++; } }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  const find = setInterval(() => {
    const v = document.querySelector('video');
    if (v && typeof v.requestVideoFrameCallback === 'function') { clearInterval(find); watch(v); }
  }, 200);
})();`;

export interface ClockSample {
  /** Seconds from the pusher's capture to this page's screen, since the last read (drained). */
  readonly latencySec: number[];
  /** Frames whose strip did not read as a plausible time (none expected). */
  readonly unreadable: number;
}

/** Runs in the page (passed to page.evaluate). */
export function readClockProbe(): ClockSample | null {
  const w = window as unknown as { __clockProbe?: { samples: number[]; unreadable: number } };
  const m = w.__clockProbe;
  return m === undefined ? null : { latencySec: m.samples.splice(0), unreadable: m.unreadable };
}
