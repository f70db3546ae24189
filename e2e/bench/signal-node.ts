/**
 * One adapter node for the signaling benchmark (signal.ts starts it with fork): signaling and
 * tracker only, announces every minute, caps raised to what the benchmark asks; answers
 * `stats` over IPC with its connections, relay counters and resident memory.
 */
import { parseArgs } from 'node:util';
import { startAdapter } from '../../origin-adapter/index.js';

const { values } = parseArgs({ options: { redis: { type: 'string' }, clients: { type: 'string' } } });
const clients = Number(values.clients ?? '5000');
const adapter = await startAdapter({
  port: 0,
  source: false,
  vodSec: 0,
  log: () => undefined,
  // The benchmark's peers announce once a minute: it measures signaling, not HTTP announces.
  announceIntervalMs: 60_000,
  ...(values.redis === undefined ? {} : { redis: values.redis }),
  connections: { signalingClients: clients, maxConnections: clients + 1000, connectionsPerAddress: 128 },
});
process.on('message', (m: unknown) => {
  if (m !== 'stats') return;
  const s = adapter.signalingStats();
  process.send?.({ clients: s?.clients ?? 0, relayed: s?.relayed ?? 0, forwarded: s?.forwarded ?? 0, refusedSockets: s?.refusedSockets ?? 0, rssBytes: process.memoryUsage().rss, cluster: adapter.clusterStats() ?? null });
});
process.on('disconnect', () => void adapter.close().then(() => process.exit(0)));
process.send?.({ url: adapter.url });
