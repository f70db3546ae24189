// npm run bench:cpu -- [--viewers 4] [--duration 60] [--bitrate-kbps K] [--repeat 3] [--after] [--client-options J] [--json FILE]
// What P2P costs a viewer's device in CPU: the same viewers with relaycast and without it (plain playback), in one
// invocation, each pair measured by Chromium process and thread over the load tool's steady window. Prints JSON.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_LOAD_OPTIONS, runLoad } from '../load/run.js';
import { intArg, jsonObjectArg, readArgs } from '../support/cli-args.js';
import { otherCpu, ownCpuMark } from './machine-cpu.js';
import { pairOf, summarize, type Pair } from './cpu-summary.js';

const USAGE = `usage: npm run bench:cpu -- [--viewers N] [--duration S] [--bitrate-kbps K] [--repeat R] [--after] [--client-options J] [--json FILE]
  --viewers N         viewers with P2P, and as many without it (default 4)
  --duration S        seconds of each run (default 60)
  --bitrate-kbps K    the embedded source at a constant K kbit/s (default: the demo stream)
  --repeat R          pairs of runs; the JSON gives each and their medians (default 3)
  --after             the plain run after the P2P run instead of at the same time
  --client-options J  JSON object set as window.relaycastOptions in the P2P viewers
  --json FILE         also write the JSON to FILE`;

const int = (name: string, v: string | undefined, dflt: number, min: number): number => intArg(USAGE, name, v, dflt, min);

const args = readArgs(USAGE, () =>
  parseArgs({
    options: {
      viewers: { type: 'string' },
      duration: { type: 'string' },
      'bitrate-kbps': { type: 'string' },
      repeat: { type: 'string' },
      after: { type: 'boolean', default: false },
      'client-options': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values,
);
const viewers = int('viewers', args.viewers, 4, 1);
const durationSec = int('duration', args.duration, 60, 20);
const repeat = int('repeat', args.repeat, 3, 1);
const bitrateKbps = args['bitrate-kbps'] === undefined ? undefined : int('bitrate-kbps', args['bitrate-kbps'], 0, 50);
const clientOptions = jsonObjectArg(USAGE, 'client-options', args['client-options']);
// Concurrent by default: on a machine shared with other work, both sides of a pair see the same
// background load at the same time, so the ratio does not depend on what ran during which half.
const mode = args.after ? 'after' : 'concurrent';

const pairs: Pair[] = [];
const machine: { pair: number; wallSec: number; otherCores: number | null; loadAvg1: number }[] = [];
for (let i = 0; i < repeat; i++) {
  const mark = ownCpuMark();
  const t0 = Date.now();
  const r = await runLoad({
    ...DEFAULT_LOAD_OPTIONS,
    viewers,
    durationSec,
    p2p: true,
    baseline: true,
    baselineMode: mode,
    adapter: bitrateKbps === undefined ? {} : { bitrateKbps },
    ...(clientOptions ? { clientOptions } : {}),
    profileCpu: true,
    progress: (line) => process.stderr.write(`[cpu ${i + 1}/${repeat}] ${line}\n`),
  });
  if (!r.baseline) throw new Error('the load tool returned no baseline');
  const pair = pairOf({ p2p: r, plain: r.baseline });
  pairs.push(pair);
  const wallSec = (Date.now() - t0) / 1000;
  const other = otherCpu(mark);
  machine.push({ pair: i + 1, wallSec: Math.round(wallSec), otherCores: other === null ? null : Math.round((other / wallSec) * 100) / 100, loadAvg1: Math.round((loadavg()[0] ?? 0) * 100) / 100 });
  process.stderr.write(`[cpu ${i + 1}/${repeat}] cpuRatio ${String(pair.cpuRatio)} (P2P ${String(pair.p2p?.cpuSecPerViewerMin)}, plain ${String(pair.plain?.cpuSecPerViewerMin)} CPU-s per viewer-minute)\n`);
}

const result = {
  viewers,
  durationSec,
  bitrateKbps: bitrateKbps ?? null,
  repeat,
  mode,
  ...(clientOptions ? { clientOptions } : {}),
  ...summarize(pairs),
  // What else ran: the CPU (in cores) used on the machine during each pair outside this process and its children.
  machine: { cores: cpus().length, pairs: machine },
};
const json = JSON.stringify(result, null, 2);
if (args.json) writeFileSync(args.json, `${json}\n`);
console.log(json);
