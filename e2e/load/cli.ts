// npm run load -- --viewers N --duration S [--no-p2p] [--url PAGE] [--json FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_LOAD_OPTIONS, runLoad } from './run.js';

const USAGE = `usage: npm run load -- --viewers N --duration S [--no-p2p] [--url PAGE] [--json FILE]
  --viewers N     isolated browser contexts (default 4); each decodes video, size N for the cores you have
  --duration S    seconds from the first viewer opening (default 60)
  --no-p2p        baseline: no service worker and no relaycast script on the page
  --url PAGE      player page to load instead of the embedded demo
  --json FILE     also write the JSON result to FILE
  --stagger-ms M  delay between viewers opening (default ${DEFAULT_LOAD_OPTIONS.staggerMs})
  --warmup S      seconds after all viewers play before the steady window (default ${DEFAULT_LOAD_OPTIONS.warmupSec})`;

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      viewers: { type: 'string' },
      duration: { type: 'string' },
      'no-p2p': { type: 'boolean', default: false },
      url: { type: 'string' },
      json: { type: 'string' },
      'stagger-ms': { type: 'string' },
      warmup: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (e) {
  console.error(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const viewers = positiveInt('viewers', args.viewers, 4);
if (viewers < 1) {
  console.error(`--viewers must be at least 1\n${USAGE}`);
  process.exit(2);
}
const result = await runLoad({
  ...DEFAULT_LOAD_OPTIONS,
  viewers,
  durationSec: positiveInt('duration', args.duration, 60),
  p2p: !args['no-p2p'],
  ...(args.url ? { url: args.url } : {}),
  staggerMs: positiveInt('stagger-ms', args['stagger-ms'], DEFAULT_LOAD_OPTIONS.staggerMs),
  warmupSec: positiveInt('warmup', args.warmup, DEFAULT_LOAD_OPTIONS.warmupSec),
  progress: (line) => process.stderr.write(`[load] ${line}\n`),
});
const json = JSON.stringify(result, null, 2);
if (args.json) writeFileSync(args.json, `${json}\n`);
console.log(json);
