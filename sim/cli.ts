/**
 * npm run simulate -- --viewers N --duration S [--churn PCT_PER_MIN]
 *   [--no-upload-share FRACTION] [--seed K] [--json FILE] [model flags, see --help]
 *
 * Runs a live stream through N simulated viewers in virtual time with the real
 * Swarm, PeerLink and tracker code, and prints one JSON object.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_SIM, simulate, type SimOptions } from './run.js';

const numeric: Record<string, keyof SimOptions> = {
  viewers: 'viewers',
  duration: 'durationSec',
  churn: 'churnPctPerMin',
  'no-upload-share': 'noUploadShare',
  seed: 'seed',
  warmup: 'warmupSec',
  ramp: 'rampSec',
  'bitrate-mbps': 'bitrateMbps',
  'segment-sec': 'segmentSec',
  'uplink-median-mbps': 'uplinkMedianMbps',
  'uplink-sigma': 'uplinkSigma',
  'slow-share': 'slowShare',
  'slow-uplink-mbps': 'slowUplinkMbps',
  'downlink-mbps': 'downlinkMbps',
  'budget-mbps': 'budgetMbps',
  'real-bytes': 'realBytes',
  'quantum-ms': 'quantumMs',
  'wire-chunk-bytes': 'wireChunkBytes',
};

/** Overrides of the page's config (client/config.ts). */
const clientFlags = { 'max-peers': 'maxPeers', 'max-uploads-total': 'maxUploadsTotal', 'max-uploads-per-peer': 'maxUploadsPerPeer', 'safety-margin-ms': 'safetyMarginMs' } as const;

const HELP = `usage: npm run simulate -- --viewers N --duration S [options]
  --churn PCT             viewers leaving (and as many joining) per minute, percent (default 0)
  --no-upload-share F     share of viewers that do not upload (default 0)
  --seed K                PRNG seed (default 1)
  --json FILE             also write the JSON result to FILE
  --warmup S              start of the steady window (default min(30, duration/3))
  --ramp S                initial viewers join over [0, S) (default ${DEFAULT_SIM.rampSec})
  --bitrate-mbps X        stream bitrate (default ${DEFAULT_SIM.bitrateMbps}); segment size = bitrate x segment duration
  --segment-sec X         segment duration (default ${DEFAULT_SIM.segmentSec})
  --uplink-median-mbps X  median viewer uplink, lognormal (default ${DEFAULT_SIM.uplinkMedianMbps}); --uplink-sigma (default ${DEFAULT_SIM.uplinkSigma})
  --slow-share F          share of viewers on a slow uplink (default ${DEFAULT_SIM.slowShare}) of --slow-uplink-mbps (default ${DEFAULT_SIM.slowUplinkMbps})
  --downlink-mbps X       viewer downlink for origin fetches (default ${DEFAULT_SIM.downlinkMbps})
  --budget-mbps X|auto    the page's upload budget (client maxUploadBytesPerSec; default ${DEFAULT_SIM.budgetMbps}: 6 x the bitrate, 16-64 Mbit/s); 0 = none
  --uplink-sharing M      fair (default: connections share a viewer's uplink equally) or fifo (one message at a time)
  --wire-chunk-bytes N    virtual payload per frame on the wire (default 65536, the page's frame size)
  --real-bytes N          real bytes carried per segment (default 2000 x segment seconds; see README)
  --max-peers N, --max-uploads-total N, --max-uploads-per-peer N, --safety-margin-ms N
                          override the page's config (client/config.ts DEFAULT_CONFIG)
  --quantum-ms X          scheduler batching window (default ${DEFAULT_SIM.quantumMs}; 0 = exact)
  --no-relay-while-receiving
                          peers relay a copy only once complete (client relayWhileReceiving: false)
  --baseline              the same run without relaycast (every segment from the origin): the lag to compare with
  --no-seed-math-random   leave Math.random (Swarm.pickHolder) unseeded
  --quiet                 no progress lines on stderr`;

async function main(): Promise<void> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { json: { type: 'string' }, 'uplink-sharing': { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean' }, 'no-seed-math-random': { type: 'boolean' }, baseline: { type: 'boolean' }, 'no-relay-while-receiving': { type: 'boolean' } };
  for (const k of [...Object.keys(numeric), ...Object.keys(clientFlags)]) options[k] = { type: 'string' };
  const { values } = parseArgs({ options, strict: true });
  if (values['help'] === true) {
    console.log(HELP);
    return;
  }
  const input: Record<string, number | boolean | ((l: string) => void)> = {};
  for (const [flag, key] of Object.entries(numeric)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    if (flag === 'budget-mbps' && raw === 'auto') {
      (input as Record<string, unknown>)[key] = 'auto';
      continue;
    }
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new RangeError(`--${flag}: not a number: ${raw}`);
    input[key] = n;
  }
  const client: Record<string, number | boolean> = {};
  if (values['no-relay-while-receiving'] === true) client['relayWhileReceiving'] = false;
  for (const [flag, key] of Object.entries(clientFlags)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${flag}: not an integer >= 0: ${raw}`);
    client[key] = n;
  }
  (input as Record<string, unknown>)['client'] = client;
  if (input['viewers'] === undefined || input['durationSec'] === undefined) {
    console.error(HELP);
    process.exitCode = 2;
    return;
  }
  if (values['no-seed-math-random'] === true) input['seedMathRandom'] = false;
  if (values['baseline'] === true) input['p2p'] = false;
  const sharing = values['uplink-sharing'];
  if (typeof sharing === 'string') (input as Record<string, unknown>)['uplinkSharing'] = sharing;
  if (values['quiet'] !== true) input['progress'] = (line: string) => process.stderr.write(`${line}\n`);
  const result = await simulate(input as unknown as Parameters<typeof simulate>[0]);
  const text = JSON.stringify({ ...result, code: codeVersion() }, null, 2);
  console.log(text);
  const file = values['json'];
  if (typeof file === 'string') writeFileSync(file, `${text}\n`);
}

/** Which client code ran: results depend on it. */
function codeVersion(): { commit: string; modified: string[] } | null {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const modified = git('status', '--porcelain', '--', 'client', 'protocol', 'origin-adapter/tracker.ts', 'origin-adapter/config.ts', 'sim')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => l.slice(3));
    return { commit: git('rev-parse', '--short', 'HEAD').trim(), modified };
  } catch {
    return null;
  }
}

/**
 * A run allocates mostly short-lived objects (messages, promises, frames): with V8's default
 * 16 MB young generation many of them outlive a scavenge and are collected by full
 * collections of the whole heap instead. A 64 MB young generation cut the CPU time of
 * N = 2,000 x 40 s by about a tenth. The flag must be given at startup: run again with it,
 * once, unless the caller chose a size.
 */
function relaunchWithYoungGeneration(): boolean {
  const flag = '--max-semi-space-size';
  if (process.env['RELAYCAST_SIM_CHILD'] === '1' || process.execArgv.some((a) => a.startsWith(flag)) || (process.env['NODE_OPTIONS'] ?? '').includes(flag)) return false;
  const r = spawnSync(process.execPath, [`${flag}=64`, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, RELAYCAST_SIM_CHILD: '1' },
  });
  process.exitCode = r.status ?? 1;
  return true;
}

if (!relaunchWithYoungGeneration()) main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
