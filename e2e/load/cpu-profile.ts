/**
 * What a load run's viewers cost in CPU over its steady window (`npm run bench:cpu`): CPU
 * seconds per viewer-minute by Chromium process type and thread, data-channel messages per
 * page per second by kind, and segment bytes crossing the page/worker boundary per segment
 * byte the players received.
 */
import type { MessageCount, RelaycastStats } from '../../protocol/stats.js';
import { cpuBetween, type CpuSnapshot } from './browser-cpu.js';
import type { Tick } from './metrics.js';

export interface CpuProfile {
  /** The steady window the numbers cover, s, and the viewers present through it. */
  windowSec: number;
  viewers: number;
  /** CPU seconds per viewer-minute, all the browser's processes (browser, GPU, network service included). */
  cpuSecPerViewerMin: number;
  byProcess: Record<string, number>;
  /** `<process>/<thread>`, per viewer-minute, largest first; threads under 0.005 left out. */
  byThread: Record<string, number>;
  /** Per page per second, mean over the pages present through the window; null without relaycast. */
  messagesPerSecPerPage: { sent: Record<string, number>; received: Record<string, number> } | null;
  /** Binary piece frames' bytes per segment byte the players received (sent, received); null without relaycast. */
  frameBytesPerSegmentByte: { sent: number; received: number } | null;
  /** Segment bytes between pages and their workers (both ways) and bytes pages copied for that, per segment byte the players received. */
  workerBoundary: { bytesPerSegmentByte: number; copiedPerSegmentByte: number; toWorkerBytes: number; fromWorkerBytes: number } | null;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function perUnit(rec: Readonly<Record<string, number>>, unit: number, min = 0): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(rec).sort((a, b) => b[1] - a[1])) if (v / unit >= min) out[k] = r3(v / unit);
  return out;
}

/** The snapshot at or just after `tSec`, else the last. */
function snapAt(snaps: readonly CpuSnapshot[], tSec: number): CpuSnapshot | undefined {
  return snaps.find((s) => s.tSec >= tSec) ?? snaps[snaps.length - 1];
}

function countsDelta(a: Readonly<Record<string, MessageCount>> | undefined, b: Readonly<Record<string, MessageCount>>, field: keyof MessageCount): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, c] of Object.entries(b)) out[k] = c[field] - (a?.[k]?.[field] ?? 0);
  return out;
}

function addInto(into: Record<string, number>, add: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(add)) into[k] = (into[k] ?? 0) + v;
}

/** The relaycast counters of the pages present at both ticks, as differences, and their players' segment bytes. */
function pageDeltas(first: Tick, last: Tick): { pages: number; sent: Record<string, number>; received: Record<string, number>; frameSent: number; frameReceived: number; segmentBytes: number; toWorker: number; fromWorker: number; copied: number } {
  const d = { pages: 0, sent: {}, received: {}, frameSent: 0, frameReceived: 0, segmentBytes: 0, toWorker: 0, fromWorker: 0, copied: 0 };
  for (const v of last.viewers) {
    const before = first.viewers.find((x) => x.id === v.id)?.sample;
    const a: RelaycastStats | null | undefined = before?.relaycast;
    const b = v.sample?.relaycast;
    if (!v.present || !before || !v.sample || !a || !b || !b.channel || !b.worker) continue;
    d.pages++;
    d.segmentBytes += v.sample.segmentBytes - before.segmentBytes;
    addInto(d.sent, countsDelta(a.channel?.sent, b.channel.sent, 'messages'));
    addInto(d.received, countsDelta(a.channel?.received, b.channel.received, 'messages'));
    d.frameSent += (b.channel.sent['frame']?.bytes ?? 0) - (a.channel?.sent['frame']?.bytes ?? 0);
    d.frameReceived += (b.channel.received['frame']?.bytes ?? 0) - (a.channel?.received['frame']?.bytes ?? 0);
    d.toWorker += b.worker.toWorkerBytes - (a.worker?.toWorkerBytes ?? 0);
    d.fromWorker += b.worker.fromWorkerBytes - (a.worker?.fromWorkerBytes ?? 0);
    d.copied += b.worker.copiedBytes - (a.worker?.copiedBytes ?? 0);
  }
  return d;
}

/**
 * The profile of the window [startSec, last tick]. `snaps`: the browser's CPU at each poll,
 * taken with the ticks. Undefined when the window holds fewer than two snapshots.
 */
export function cpuProfile(ticks: readonly Tick[], snaps: readonly CpuSnapshot[], startSec: number): CpuProfile | undefined {
  const a = snapAt(snaps, startSec);
  const b = snaps[snaps.length - 1];
  const first = ticks.find((t) => t.tSec >= startSec);
  const last = ticks[ticks.length - 1];
  if (!a || !b || !first || !last || b.tSec <= a.tSec) return undefined;
  const windowSec = b.tSec - a.tSec;
  const viewers = last.viewers.filter((v) => v.present && first.viewers.some((x) => x.id === v.id)).length;
  const viewerMin = (Math.max(1, viewers) * windowSec) / 60;
  const byProcess = cpuBetween(a.byProcess, b.byProcess);
  const total = Object.values(byProcess).reduce((s, x) => s + x, 0);
  const pages = pageDeltas(first, last);
  const pageSec = pages.pages * (last.tSec - first.tSec);
  const seg = pages.segmentBytes;
  return {
    windowSec: r3(windowSec),
    viewers,
    cpuSecPerViewerMin: r3(total / viewerMin),
    byProcess: perUnit(byProcess, viewerMin),
    byThread: perUnit(cpuBetween(a.byThread, b.byThread), viewerMin, 0.005),
    messagesPerSecPerPage: pageSec > 0 ? { sent: perUnit(pages.sent, pageSec), received: perUnit(pages.received, pageSec) } : null,
    frameBytesPerSegmentByte: pages.pages > 0 && seg > 0 ? { sent: r3(pages.frameSent / seg), received: r3(pages.frameReceived / seg) } : null,
    workerBoundary:
      pages.pages > 0 && seg > 0
        ? { bytesPerSegmentByte: r3((pages.toWorker + pages.fromWorker) / seg), copiedPerSegmentByte: r3(pages.copied / seg), toWorkerBytes: pages.toWorker, fromWorkerBytes: pages.fromWorker }
        : null,
  };
}
