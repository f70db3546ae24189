import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrackerClient } from '../../client/transport/tracker-client.js';

test('the tracker client sends the signaling token of its peer id with every announce', async () => {
  const bodies: unknown[] = [];
  const answer = { type: 'peers', swarm: 's', peers: [], swarmSize: 1, seeders: [], fetchersPerSegment: 1, announceIntervalMs: 60_000, p2p: true };
  const fetchFn = (async (_url: string, init?: RequestInit) => {
    bodies.push(JSON.parse(String(init?.body)));
    return new Response(JSON.stringify(answer), { status: 200 });
  }) as typeof fetch;
  const c = new TrackerClient('http://t/relaycast/tracker', () => true, { onPeers: () => undefined, onError: () => undefined }, fetchFn);
  c.setPeerId('peer-1', 'f'.repeat(32));
  c.join('s');
  for (let i = 0; i < 50 && bodies.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  c.destroy();
  assert.deepEqual(bodies[0], { type: 'announce', swarm: 's', peerId: 'peer-1', uploads: true, token: 'f'.repeat(32) });
});
