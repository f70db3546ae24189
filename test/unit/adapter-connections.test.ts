import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { startAdapter } from '../../origin-adapter/index.js';
import { httpGet, silent } from './adapter-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function openSocket(port: number, localAddress = '127.0.0.1'): Promise<{ s: Socket; closedAfter: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = connect({ port, host: '127.0.0.1', localAddress });
    s.on('error', () => undefined);
    const closedAfter = new Promise<number>((r) => s.once('close', () => r(Date.now() - t0)));
    s.once('connect', () => resolve({ s, closedAfter }));
    s.once('error', reject);
  });
}

const within = (p: Promise<number>, ms: number): Promise<number | 'open'> => Promise.race([p, sleep(ms).then(() => 'open' as const)]);

test('slowloris: a connection trickling headers, and one that sends nothing, are closed by the header timeout', async () => {
  const a = await startAdapter({ port: 0, source: false, log: silent, connections: { headersTimeoutMs: 600, checkIntervalMs: 100 } });
  try {
    const trickle = await openSocket(a.port);
    trickle.s.write('GET /relaycast/stats HTTP/1.1\r\nHost: x\r\n');
    const t = setInterval(() => trickle.s.write('X-A: b\r\n'), 100);
    const silentSocket = await openSocket(a.port);
    const [closedTrickle, closedSilent] = await Promise.all([within(trickle.closedAfter, 3000), within(silentSocket.closedAfter, 3000)]);
    clearInterval(t);
    assert.notEqual(closedTrickle, 'open', 'the trickling connection was closed');
    assert.notEqual(closedSilent, 'open', 'the silent connection was closed');
    assert.equal((await httpGet(`${a.url}/relaycast/stats`)).status, 200, 'a normal request is served');
  } finally {
    await a.close();
  }
});

test('per-address connection cap: sockets over it are closed at once, other addresses are served', async () => {
  const a = await startAdapter({ port: 0, source: false, log: silent, connections: { connectionsPerAddress: 5 } });
  const held: Socket[] = [];
  try {
    const opened = await Promise.all(Array.from({ length: 8 }, () => openSocket(a.port, '127.0.0.3')));
    held.push(...opened.map((o) => o.s));
    const states = await Promise.all(opened.map((o) => within(o.closedAfter, 500)));
    assert.equal(states.filter((x) => x === 'open').length, 5, 'five held, three refused');
    const other = await httpGet(`${a.url}/relaycast/stats`);
    assert.equal(other.status, 200, 'another address (127.0.0.1) is not locked out');
    for (const s of held) s.destroy();
    await sleep(100);
    const again = await openSocket(a.port, '127.0.0.3');
    held.push(again.s);
    assert.equal(await within(again.closedAfter, 300), 'open', 'freed slots are reusable');
  } finally {
    for (const s of held) s.destroy();
    await a.close();
  }
});
