import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFrame } from '../../protocol/framing.js';
import { DEFAULT_NET, Network } from '../../sim/network.js';
import { Scheduler } from '../../sim/scheduler.js';

test('virtual clock: events in time order, cancelled timers never run, promise chains settle before time moves', async () => {
  const s = new Scheduler();
  const log: string[] = [];
  s.clock.setTimeout(() => log.push(`b@${s.now()}`), 20);
  s.clock.setTimeout(() => log.push(`a@${s.now()}`), 10);
  const h = s.clock.setTimeout(() => log.push('never'), 15);
  s.clock.clearTimeout(h);
  // An async chain started by an event sets a new timer three awaits later: it must fire at 10 + 5, before b.
  s.clock.setTimeout(() => {
    void (async () => {
      await Promise.resolve();
      await null;
      await new Promise<void>((r) => queueMicrotask(r));
      s.clock.setTimeout(() => log.push(`c@${s.now()}`), 5);
    })();
  }, 10);
  await s.run({ untilMs: 1000, quantumMs: 0 });
  assert.deepEqual(log, ['a@10', 'c@15', 'b@20']);
  assert.equal(s.now(), 1000);
});

function frame(realPayload: number): ArrayBuffer {
  return encodeFrame(1, realPayload, 0, new Uint8Array(realPayload));
}

test('network: fair sharing of an uplink, latency, order, bufferedAmount and drained', async () => {
  const s = new Scheduler();
  // 1 real payload byte = 1000 virtual bytes; no per-message overhead to keep the arithmetic plain.
  const net = new Network(s, { ...DEFAULT_NET, payloadScale: 1000, messageOverheadBytes: 0, lowWaterBytes: 100_000 });
  const a = net.host(1_000_000, 10);
  const b = net.host(1_000_000, 20);
  const c = net.host(1_000_000, 5);
  const [ab, ba] = net.pair(a, b);
  const [ac, ca] = net.pair(a, c);
  const got: string[] = [];
  ba.onData = (d) => got.push(`b:${typeof d === 'string' ? d : 'frame'}@${s.now()}`);
  ca.onData = (d) => got.push(`c:${typeof d === 'string' ? d : 'frame'}@${s.now()}`);
  // Two 500 kB frames at once on two connections of one 1 MB/s uplink: both finish at 1 s.
  ab.send(frame(500));
  ac.send(frame(500));
  ab.send('after'); // same connection: delivered after the frame
  assert.ok(ab.bufferedAmount() > 400_000);
  let drainedAt = -1;
  void ab.drained().then(() => (drainedAt = s.now()));
  await s.run({ untilMs: 5000, quantumMs: 0 });
  // The frame goes out as the page's 64 KiB frames: 8 of them, the last one at the end.
  const all = (k: string): number[] => got.filter((g) => g.startsWith(k)).map((g) => Number(g.split('@')[1]));
  const last = (k: string): number => Math.max(...all(k));
  assert.equal(all('b:frame').length, 8);
  assert.ok(Math.abs(last('b:frame') - (1000 + 30)) < 2, `b frame at ${last('b:frame')}`);
  assert.ok(Math.abs(last('c:frame') - (1000 + 15)) < 2, `c frame at ${last('c:frame')}`);
  assert.ok(last('b:after') > last('b:frame'), 'in order on one connection');
  // Low water (100 kB) is crossed when 100 kB of the 500 kB frame are left, at half speed: 0.8 s.
  assert.ok(Math.abs(drainedAt - 800) < 2, `drained at ${drainedAt}`);
  assert.equal(ab.bufferedAmount(), 0);
  assert.equal(a.sentBytes, 2 * (8 * 14 + 500 * 1000) + 'after'.length);
});

test('network: fifo sharing sends one message at a time; close reaches the other end one latency later', async () => {
  const s = new Scheduler();
  const net = new Network(s, { ...DEFAULT_NET, payloadScale: 1000, messageOverheadBytes: 0, sharing: 'fifo', wireChunkBytes: 1 << 20 });
  const a = net.host(1_000_000, 10);
  const b = net.host(1_000_000, 10);
  const c = net.host(1_000_000, 10);
  const [ab, ba] = net.pair(a, b);
  const [ac, ca] = net.pair(a, c);
  const times: number[] = [];
  ba.onData = () => times.push(s.now());
  ca.onData = () => times.push(s.now());
  ab.send(frame(500));
  ac.send(frame(500));
  let closedAt = -1;
  ca.onClose = () => (closedAt = s.now());
  s.at(2000, () => ac.close());
  await s.run({ untilMs: 5000, quantumMs: 0 });
  assert.equal(times.length, 2);
  assert.ok(Math.abs(times[0]! - 520) < 2 && Math.abs(times[1]! - 1020) < 2, `${times.join(',')}`);
  assert.equal(closedAt, 2020);
  assert.ok(ca.closed);
});

test('network: a message sent mid-transfer takes its share at once; arrivals stay exact without per-message uplink events', async () => {
  const s = new Scheduler();
  const net = new Network(s, { ...DEFAULT_NET, payloadScale: 1000, messageOverheadBytes: 0, wireChunkBytes: 1 << 20 });
  const a = net.host(1_000_000, 10);
  const b = net.host(1_000_000, 10);
  const c = net.host(1_000_000, 10);
  const [ab, ba] = net.pair(a, b);
  const [ac, ca] = net.pair(a, c);
  const at: Record<string, number> = {};
  ba.onData = (d) => (at[typeof d === 'string' ? d : 'bulk'] = s.now());
  ca.onData = (d) => (at[String(d)] = s.now());
  // 500 kB (+ 14 header bytes) alone take 500 ms; from 100 ms a 100 kB message shares the uplink for 200 ms, so the bulk ends at 600 ms.
  ab.send(frame(500));
  s.at(100, () => ac.send('x'.repeat(100_000)));
  s.at(100, () => ab.send('tail'));
  await s.run({ untilMs: 5000, quantumMs: 0 });
  assert.ok(Math.abs(at['x'.repeat(100_000)]! - (300 + 20)) < 1e-6, `small at ${at['x'.repeat(100_000)]}`);
  assert.ok(Math.abs(at['bulk']! - (600.014 + 20)) < 1e-6, `bulk at ${at['bulk']}`);
  assert.ok(at['tail']! > at['bulk']!, 'in order on one connection');
  // Two sends, one arrival per message, and one uplink wake-up (the small message ran out while the bulk still sent).
  assert.equal(s.events, 2 + 3 + 1, `events ${s.events}`);
});

test('network: wire frames are encodeFrame frames, and their buffers are reused once delivered', async () => {
  const s = new Scheduler();
  const net = new Network(s, { ...DEFAULT_NET, payloadScale: 1000, messageOverheadBytes: 0, wireChunkBytes: 64 * 1000 });
  const a = net.host(1_000_000, 10);
  const b = net.host(1_000_000, 10);
  const [ab, ba] = net.pair(a, b);
  const payload = Uint8Array.from({ length: 256 }, (_, i) => (i * 7) & 0xff);
  const got: Uint8Array[] = [];
  const bufs = new Set<ArrayBuffer>();
  ba.onData = (d) => {
    assert.ok(d instanceof ArrayBuffer);
    bufs.add(d);
    got.push(new Uint8Array(d.slice(0)));
  };
  ab.send(encodeFrame(7, 256, 0, payload));
  await s.run({ untilMs: 2000, quantumMs: 0 });
  ab.send(encodeFrame(8, 256, 0, payload));
  await s.run({ untilMs: 4000, quantumMs: 0 });
  assert.equal(got.length, 8);
  for (let i = 0; i < 8; i++) {
    const part = i % 4;
    const expect = encodeFrame(i < 4 ? 7 : 8, 256, part * 64, payload.subarray(part * 64, part * 64 + 64));
    assert.deepEqual(got[i], new Uint8Array(expect));
  }
  assert.ok(bufs.size < 8, 'the second frame reused the first one\'s wire buffers');
});
