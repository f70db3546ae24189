// npm run bench:signal -- --nodes 1|2 --peers N [--window-sec S] [--exchange-sec S] [--json FILE]
//
// Signaling capacity, one node against two in the same run. For each layout (one adapter alone
// in memory; two adapters sharing a Redis) the peers join in four steps up to N; after each step
// and one exchange period of warm-up they exchange offers, answers and candidates for a window,
// half of them with peers on the other node, and the relay latency is measured. Capacity is the most peers at which relay p99 stayed
// within 100 ms with no connection refused. Prints JSON: `peersConnected` and `relayMsP99` at N
// for the --nodes layout, and `capacityRatio` (two nodes' capacity over one's).
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isRecord } from '../../protocol/guards.js';
import { startRedis, type RedisServer } from '../../test/support/redis-server.js';
import { addInto, count, newHistogram, quantileMs } from './signal-stats.js';
import type { PeerSpec } from './signal-peers.js';

const P99_LIMIT_MS = 100;
/** Sockets one client process holds (the file-descriptor limit here is 20,000 per process). */
const PEERS_PER_PROCESS = 8000;
const PEERS_PER_ADDRESS = 16;
const SWARM_SIZE = 10;
const STEPS = [0.25, 0.5, 0.75, 1];

const { values } = parseArgs({ options: { nodes: { type: 'string' }, peers: { type: 'string' }, 'window-sec': { type: 'string' }, 'exchange-sec': { type: 'string' }, json: { type: 'string' } } });
const mainNodes = Number(values.nodes ?? '2');
const peers = Number(values.peers ?? '2000');
const windowSec = Number(values['window-sec'] ?? '10');
const exchangeSec = Number(values['exchange-sec'] ?? '10');
if (![1, 2].includes(mainNodes) || !Number.isInteger(peers) || peers < 40 || !(windowSec > 0) || !(exchangeSec > 0)) {
  console.error('usage: npm run bench:signal -- --nodes 1|2 --peers N (>= 40) [--window-sec S] [--exchange-sec S] [--json FILE]');
  process.exit(2);
}

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const progress = (line: string): void => void process.stderr.write(`${line}\n`);

/** The next IPC message of `child` for which `pick` returns a value. */
function next<T>(child: ChildProcess, pick: (m: unknown) => T | undefined, timeoutMs = 600_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('benchmark process did not answer')), timeoutMs);
    const on = (m: unknown): void => {
      const v = pick(m);
      if (v === undefined) return;
      clearTimeout(t);
      child.off('message', on);
      resolve(v);
    };
    child.on('message', on);
  });
}
const ev = (name: string) => (m: unknown) => (isRecord(m) && m['ev'] === name ? m : undefined);
const num = (m: Readonly<Record<string, unknown>>, k: string): number => (typeof m[k] === 'number' ? m[k] : 0);

const address = (i: number): string => {
  const a = Math.floor(i / PEERS_PER_ADDRESS) + 1;
  return `127.${1 + ((a >> 16) & 255)}.${(a >> 8) & 255}.${a & 255}`;
};

async function startNode(redis: RedisServer | undefined, clients: number): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(here('./signal-node.ts'), ['--clients', String(clients), ...(redis ? ['--redis', redis.url] : [])], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const url = await next(child, (m) => (isRecord(m) && typeof m['url'] === 'string' ? m['url'] : undefined), 60_000);
  return { child, url };
}

interface Level {
  readonly peers: number;
  readonly connected: number;
  readonly refused: number;
  readonly announceFailed: number;
  readonly relayMsP50: number | null;
  readonly relayMsP99: number | null;
  readonly messagesPerSec: number;
  readonly expired: number;
  readonly dropped: number;
  readonly clientLoopLagMsP99: number;
  readonly perNode: readonly { connections: number; forwarded: number; rssMB: number }[];
  readonly rssMBPer1000: number | null;
}

async function layout(nodes: number): Promise<{ nodes: number; capacity: number; capacityAtLeast: boolean; levels: Level[] }> {
  const redis = nodes > 1 ? await startRedis() : undefined;
  const started = await Promise.all(Array.from({ length: nodes }, () => startNode(redis, Math.ceil(peers / nodes) + 100)));
  const workers = await Promise.all(
    Array.from({ length: Math.ceil(peers / PEERS_PER_PROCESS) }, async () => {
      const w = fork(here('./signal-peers.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      await next(w, ev('ready'), 60_000);
      return w;
    }),
  );
  const nodeStats = (): Promise<Readonly<Record<string, unknown>>[]> =>
    Promise.all(started.map(async (n) => {
      const p = next(n.child, (m) => (isRecord(m) && 'clients' in m ? m : undefined), 300_000);
      n.child.send('stats');
      return p;
    }));
  const baseRss = (await nodeStats()).map((s) => num(s, 'rssBytes'));
  const run = randomBytes(3).toString('hex');
  const ids = Array.from({ length: peers }, (_, i) => `p${run}-${i}`);
  const specs: PeerSpec[] = ids.map((id, i) => {
    const s0 = Math.floor(i / SWARM_SIZE) * SWARM_SIZE;
    return {
      id,
      token: randomBytes(16).toString('hex'),
      url: started[i % nodes]?.url ?? '',
      from: address(i),
      swarm: `http://bench.invalid/${run}/${s0}.m3u8`,
      mates: ids.slice(s0, s0 + SWARM_SIZE).filter((x) => x !== id),
    };
  });
  const levels: Level[] = [];
  let joinedUpTo = 0;
  try {
    for (const f of STEPS) {
      const target = Math.round((peers * f) / SWARM_SIZE) * SWARM_SIZE;
      const batch = specs.slice(joinedUpTo, target);
      joinedUpTo = target;
      progress(`${nodes} node(s): ${batch.length} peers joining`);
      const joins = await Promise.all(workers.map((w, k) => {
        const p = next(w, ev('joined'));
        w.send({ cmd: 'join', peers: batch.filter((_, i) => i % workers.length === k) });
        return p;
      }));
      await Promise.all(workers.map((w) => (w.send({ cmd: 'traffic', exchangeMs: exchangeSec * 1000 }), next(w, ev('traffic')))));
      // Steady state before the window: every new peer has offered once (code warm, locations known).
      await sleep(exchangeSec * 1000 + 1000);
      await Promise.all(workers.map((w) => (w.send({ cmd: 'window' }), next(w, ev('window')))));
      await sleep(windowSec * 1000);
      const samples = await Promise.all(workers.map((w) => (w.send({ cmd: 'collect' }), next(w, ev('samples')))));
      const hist = newHistogram();
      for (const s of samples) if (Array.isArray(s['hist'])) addInto(hist, s['hist'].map((x: unknown) => (typeof x === 'number' ? x : 0)));
      const ns = await nodeStats();
      const connections = ns.reduce((a, s) => a + num(s, 'clients'), 0);
      const rssGrowth = ns.reduce((a, s, i) => a + num(s, 'rssBytes') - (baseRss[i] ?? 0), 0);
      const level: Level = {
        peers: target,
        connected: samples.reduce((a, s) => a + num(s, 'open'), 0),
        refused: joins.reduce((a, j) => a + num(j, 'refused'), 0) + (levels.at(-1)?.refused ?? 0),
        announceFailed: joins.reduce((a, j) => a + num(j, 'announceFailed'), 0) + (levels.at(-1)?.announceFailed ?? 0),
        relayMsP50: quantileMs(hist, 0.5),
        relayMsP99: quantileMs(hist, 0.99),
        messagesPerSec: Math.round(count(hist) / windowSec),
        expired: samples.reduce((a, s) => a + num(s, 'expired'), 0),
        dropped: samples.reduce((a, s) => a + num(s, 'dropped'), 0),
        clientLoopLagMsP99: Math.max(...samples.map((s) => num(s, 'lagMsP99'))),
        perNode: ns.map((s) => ({ connections: num(s, 'clients'), forwarded: num(s, 'forwarded'), rssMB: Math.round(num(s, 'rssBytes') / 1e5) / 10 })),
        rssMBPer1000: connections > 0 ? Math.round(rssGrowth / 1e4 / (connections / 1000)) / 100 : null,
      };
      levels.push(level);
      progress(`${nodes} node(s), ${target} peers: ${JSON.stringify({ ...level, perNode: undefined })}`);
      if (!passes(level)) break;
    }
  } finally {
    for (const w of workers) w.send({ cmd: 'close' });
    for (const n of started) n.child.kill('SIGTERM');
    await redis?.stop();
  }
  const ok = levels.filter(passes);
  const capacity = ok.at(-1)?.peers ?? 0;
  return { nodes, capacity, capacityAtLeast: capacity === peers, levels };
}

function passes(l: Level): boolean {
  return l.refused === 0 && l.relayMsP99 !== null && l.relayMsP99 <= P99_LIMIT_MS && l.connected === l.peers;
}

const load0 = loadavg();
const one = await layout(1);
const two = await layout(2);
const main = mainNodes === 1 ? one : two;
const top = main.levels.at(-1);
const result = {
  peersConnected: top?.connected ?? 0,
  relayMsP99: top?.relayMsP99 ?? null,
  capacityRatio: one.capacity > 0 ? Math.round((two.capacity / one.capacity) * 100) / 100 : null,
  nodes: mainNodes,
  peers,
  peersAtTop: top?.peers ?? 0,
  p99LimitMs: P99_LIMIT_MS,
  windowSec,
  exchangeSec,
  // A capacity that reached `peers` is a lower bound: the ratio is then not the machine's limit.
  capacity: { oneNode: one.capacity, oneNodeAtLeast: one.capacityAtLeast, twoNodes: two.capacity, twoNodesAtLeast: two.capacityAtLeast },
  layouts: { oneNode: one.levels, twoNodes: two.levels },
  machine: { cores: cpus().length, loadAvgBefore: load0.map((x) => Math.round(x * 100) / 100), loadAvgAfter: loadavg().map((x) => Math.round(x * 100) / 100) },
};
const text = JSON.stringify(result, null, 2);
if (values.json) writeFileSync(values.json, text);
console.log(text);
