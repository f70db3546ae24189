// Browser tests in the network lab: each viewer's Chromium in its own network namespace with a
// real upload cap (tc tbf). Linux and root only.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { chromiumPath } from '../support/browser.js';
import { DEFAULT_LOAD_OPTIONS, runLoad } from '../load/run.js';
import { createLab, ipBinary, labLeftovers, labUnavailable } from './netlab.js';
import { timeUploads } from './uplink-check.js';

const log = (line: string): void => void process.stderr.write(`  ${line}\n`);
const unavailable = labUnavailable();
const skip = unavailable === null ? false : `network lab unavailable: ${unavailable}`;

test('network lab: a 1 MB upload through a 2 Mbit/s cap takes about 4 s; the only route ends at the host; torn down', { skip, timeout: 60_000 }, async () => {
  const lab = createLab({ uplinkMbps: [2, null], chromiumPath: chromiumPath(), maxLifetimeSec: 60, log });
  try {
    const [capped, free] = await timeUploads(lab, 1_000_000, [0, 1]);
    log(JSON.stringify({ capped, free }));
    assert.ok(capped && free);
    // 8 Mbit at 2 Mbit/s is 4 s; the first 16 KiB leave at once, and TCP/IP headers count against the cap.
    assert.ok(capped.seconds > 3.6 && capped.seconds < 12, `capped upload took ${capped.seconds} s`);
    assert.ok(free.seconds < capped.seconds / 4, `uncapped upload took ${free.seconds} s`);
    const v = lab.viewers[0];
    assert.ok(v);
    const routes = execFileSync(ipBinary(), ['-n', v.ns, '-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
    const lines = routes.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    for (const l of lines) assert.match(l, / dev (eth0|lo)\b/, `a route on the lab's link or loopback only:\n${routes}`);
    assert.deepEqual(lines.filter((l) => / via /.test(l)), [`default via ${lab.hostAddress} dev eth0`], `one gateway, the host's bridge address:\n${routes}`);
  } finally {
    lab.destroy();
  }
  assert.deepEqual(labLeftovers(lab.id), [], 'no namespace, link or directory of the lab is left');
});

test('network lab: 3 viewers with 2 Mbit/s uplinks on a 1000 kbit/s stream all play, segments come from several peers at once, the lab is removed', { skip, timeout: 240_000 }, async () => {
  const r = await runLoad({
    ...DEFAULT_LOAD_OPTIONS,
    viewers: 3,
    durationSec: 50,
    p2p: true,
    adapter: { bitrateKbps: 1000 },
    // Twice the bitrate: a viewer's whole uplink could carry one copy of the stream to one peer at a time.
    uplinkMbps: [2, 2, 2],
    progress: log,
  });
  log(JSON.stringify({ offload: r.offload, stalls: r.stalls, notPlaying: r.notPlaying, peerSegmentBytes: r.peerSegmentBytes, segmentsFromSeveralPeers: r.segmentsFromSeveralPeers, lab: r.lab }));
  assert.equal(r.bitrateKbps, 1000);
  assert.ok(r.lab, 'the run records its lab');
  assert.deepEqual(r.lab.uplinkMbps, [2, 2, 2]);
  assert.deepEqual(r.perViewer.map((v) => v.uplinkMbps), [2, 2, 2]);
  // The caps are real: 1 MB from each viewer took about 4 s (8 Mbit at 2 Mbit/s).
  assert.equal(r.lab.uplinkCheck.length, 3);
  for (const u of r.lab.uplinkCheck) assert.ok(u.seconds > 3.6 && u.seconds < 12, `slot ${u.slot}: ${u.seconds} s for 1 MB`);
  assert.equal(r.controlled, 3, 'every page is controlled by the worker');
  assert.equal(r.notPlaying, 0, 'every player plays');
  assert.equal(r.errors, 0, `no page errors: ${r.errorSamples.join('; ')}`);
  assert.ok(r.peerSegmentBytes > 0, 'peers delivered bytes across the lab');
  assert.ok(r.segmentsFromSeveralPeers > 0, 'some segments were assembled from the pieces of two peers at once');
  assert.equal(r.corruptedDelivered, 0);
  assert.deepEqual(labLeftovers(r.lab.id), [], 'no namespace, link or directory of the lab is left');
});
