import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countReceived, countSent, messageKind, type ChannelCounts } from '../../client/transport/channel-counts.js';
import { emptyStats } from '../../client/core/stats.js';
import { cpuBetween, parseTaskStat, processLabel, threadLabel, type CpuSnapshot } from '../../e2e/load/browser-cpu.js';
import { cpuProfile } from '../../e2e/load/cpu-profile.js';
import { medianRecord, pairOf, summarize } from '../../e2e/bench/cpu-summary.js';
import type { Tick } from '../../e2e/load/metrics.js';
import type { ProbeSample } from '../../e2e/support/page-probe.js';

test('messages are counted by kind from their first bytes: peer types, keepalives, frames, anything else as other', () => {
  assert.equal(messageKind('{"type":"request","reqId":1,"id":"x","piece":0}'), 'request');
  assert.equal(messageKind('{"type":"have","segments":[]}'), 'keepalive');
  assert.equal(messageKind('{"type":"have","segments":[{"id":"a","seq":1,"bytes":3}]}'), 'have');
  assert.equal(messageKind(new ArrayBuffer(20)), 'frame');
  assert.equal(messageKind(new Uint8Array(3)), 'frame');
  assert.equal(messageKind('{"type":"made-up-by-a-peer"}'), 'other', 'a peer cannot grow the table');
  assert.equal(messageKind('{"reqId":1,"type":"ping"}'), 'other');
  assert.equal(messageKind(42), 'other');
  const c: ChannelCounts = { sent: {}, received: {} };
  countSent(c, '{"type":"ping","n":1}');
  countSent(c, '{"type":"ping","n":2}');
  countSent(c, new ArrayBuffer(100));
  countReceived(c, '{"mux":"ok","ch":16}', 'mux');
  countSent(undefined, 'ignored');
  assert.deepEqual(c.sent, { ping: { messages: 2, bytes: 42 }, frame: { messages: 1, bytes: 100 } });
  assert.deepEqual(c.received, { mux: { messages: 1, bytes: 20 } });
});

test('/proc task lines, process types and thread names read as the bench reports them', () => {
  const line = '4242 (ServiceWorker t) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 30 0 100 200 300';
  assert.deepEqual(parseTaskStat(line), { name: 'ServiceWorker t', ticks: 175 });
  assert.deepEqual(parseTaskStat('7 (a (b) c) R 1 2 3 4 5 6 7 8 9 10 1 2 0 0'), { name: 'a (b) c', ticks: 3 }, 'a name with parentheses');
  assert.equal(parseTaskStat('garbage'), undefined);
  assert.equal(processLabel('network.mojom.NetworkService'), 'network');
  assert.equal(processLabel('audio.mojom.AudioService'), 'utility:audio');
  assert.equal(processLabel('GPU'), 'gpu');
  assert.equal(processLabel('renderer'), 'renderer');
  assert.equal(threadLabel('chromium', true), 'main');
  assert.equal(threadLabel('WebRTC_W_and_N', false), 'webrtc-worker-network');
  assert.equal(threadLabel('SomethingNew', false), 'SomethingNew');
  assert.deepEqual(cpuBetween({ a: 1, gone: 5 }, { a: 3, b: 2 }), { a: 2, b: 2 }, 'a process first seen later counts from 0');
});

function sample(segmentBytes: number, sent: number, toWorker: number): ProbeSample {
  const rc = emptyStats();
  rc.channel.sent = { have: { messages: sent, bytes: sent * 50 }, frame: { messages: sent / 10, bytes: 7 * segmentBytes } };
  rc.worker = { toWorkerBytes: toWorker, fromWorkerBytes: toWorker / 4, copiedBytes: toWorker };
  return {
    segmentBytes, stalls: 0, stalledSec: 0, playing: true, currentTime: 0, pageSec: 0, stallLog: [], slowLog: [], longTaskSec: 0,
    firstPlayingSec: 1, latencySec: 6, controlled: true, relaycast: rc, errors: [], hashes: [],
  };
}

test('a profile covers the window only: CPU per viewer-minute, messages per page per second, bytes per segment byte', () => {
  const ticks: Tick[] = [0, 10, 20, 40].map((t) => ({
    tSec: t,
    cpuBusy: null,
    originSegmentBytes: 0,
    viewers: [0, 1].map((id) => ({ id, role: 'honest' as const, openedSec: 0, present: true, sample: sample(1000 * t, 10 * t, 800 * t) })),
  }));
  const snaps: CpuSnapshot[] = [0, 10, 20, 40].map((t) => ({ tSec: t, byProcess: { renderer: t, browser: t / 10 }, byThread: { 'renderer/main': t / 2, 'renderer/service-worker': t / 100000 } }));
  const p = cpuProfile(ticks, snaps, 10);
  assert.ok(p);
  assert.equal(p.windowSec, 30);
  assert.equal(p.viewers, 2);
  // 30 s of renderer + 3 s of browser over 2 viewers x 0.5 min.
  assert.equal(p.cpuSecPerViewerMin, 33);
  assert.deepEqual(p.byProcess, { renderer: 30, browser: 3 });
  assert.deepEqual(p.byThread, { 'renderer/main': 15 }, 'threads under 0.005 per viewer-minute are left out');
  assert.deepEqual(p.messagesPerSecPerPage?.sent, { have: 10, frame: 1 });
  assert.deepEqual(p.frameBytesPerSegmentByte, { sent: 7, received: 0 });
  assert.equal(p.workerBoundary?.bytesPerSegmentByte, 1);
  assert.equal(p.workerBoundary?.copiedPerSegmentByte, 0.8);
  assert.equal(cpuProfile(ticks, snaps.slice(0, 1), 10), undefined, 'one snapshot is no window');
});

test('the summary gives each pair its ratio and the medians over the pairs', () => {
  const prof = (cpu: number, sw: number) => ({
    windowSec: 30, viewers: 4, cpuSecPerViewerMin: cpu, byProcess: { renderer: cpu }, byThread: { 'renderer/service-worker': sw },
    messagesPerSecPerPage: null, frameBytesPerSegmentByte: null, workerBoundary: null,
  });
  const side = (cpu: number, sw: number) => ({ cpu: prof(cpu, sw), offload: 0.75, stalls: 0, latencySecMedian: 6, cpuBusy: { p50: 0.5 } });
  const pairs = [pairOf({ p2p: side(12, 0.5), plain: side(10, 0) }), pairOf({ p2p: side(11, 0.4), plain: side(10, 0) }), pairOf({ p2p: side(15, 0.6), plain: side(10, 0) })];
  assert.deepEqual(pairs.map((p) => p.cpuRatio), [1.2, 1.1, 1.5]);
  const s = summarize(pairs);
  assert.equal(s.cpuRatio, 1.2);
  assert.equal(s.extraCpuSecPerViewerMin, 2);
  assert.equal(s.saturatedPairs, 0);
  assert.equal(pairOf({ p2p: { ...side(12, 0), cpuBusy: { p50: 0.97 } }, plain: side(10, 0) }).saturated, true, 'a busy machine is flagged');
  assert.equal(s.p2p?.['cpuSecPerViewerMin'], 12);
  assert.deepEqual(medianRecord([{ a: 1 }, { a: 3, b: 2 }, { a: 2 }]), { a: 2, b: 0 }, 'a key missing from a record counts 0 there');
  assert.equal(pairOf({ p2p: { ...side(12, 0), cpu: null }, plain: side(10, 0) }).cpuRatio, null);
});
