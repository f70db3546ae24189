// npm run attack -- --url http://127.0.0.1:PORT [--admin-token T] [--max-probes N] [--max-seconds S] [--manifest URL] [--json FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_ATTACK_OPTIONS, runAttack } from './run.js';

const USAGE = `usage: npm run attack -- --url http://127.0.0.1:PORT [options]
  Attacks a relaycast adapter on this machine's loopback (any other target is refused) with
  hostile clients: malformed HTTP, tracker forgery and floods, signaling floods and forged
  offers, slow and idle connections, range and hash tricks. Prints a JSON report.
  --url URL           the adapter (http, loopback only)
  --admin-token T     also check the admin-only parts of /relaycast/stats
  --max-probes N      probes in all (default ${DEFAULT_ATTACK_OPTIONS.maxProbes})
  --max-seconds S     time budget (default ${DEFAULT_ATTACK_OPTIONS.maxSeconds})
  --manifest URL      attack the swarms of this HLS manifest instead of the embedded stream's
  --json FILE         also write the report to FILE
Exit code: 0 when every check held and the adapter showed no error, 1 otherwise, 2 on bad usage.`;

function fail(msg: string): never {
  console.error(`${msg}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      url: { type: 'string' },
      'admin-token': { type: 'string' },
      'max-probes': { type: 'string' },
      'max-seconds': { type: 'string' },
      manifest: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values.url === undefined) fail('--url is required');
const int = (name: string, v: string | undefined, dflt: number, max: number): number => {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) fail(`--${name} must be an integer 1..${max}`);
  return Number(v);
};
let report;
try {
  report = await runAttack({
    url: values.url,
    ...(values['admin-token'] !== undefined ? { adminToken: values['admin-token'] } : {}),
    ...(values.manifest !== undefined ? { manifest: values.manifest } : {}),
    maxProbes: int('max-probes', values['max-probes'], DEFAULT_ATTACK_OPTIONS.maxProbes, 20_000),
    maxSeconds: int('max-seconds', values['max-seconds'], DEFAULT_ATTACK_OPTIONS.maxSeconds, 600),
    progress: (line) => process.stderr.write(`[attack] ${line}\n`),
  });
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
const json = JSON.stringify(report, null, 2);
if (values.json) writeFileSync(values.json, `${json}\n`);
console.log(json);
process.exit(report.checksFailed === 0 && report.adapterErrors.count === 0 && report.alive ? 0 : 1);
