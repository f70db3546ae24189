// Several tracker nodes: a page whose tracker node went away announces to the next one soon,
// and stays there; with one URL it retries as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrackerClient } from '../../client/transport/tracker-client.js';
import { signalEndpoint, socketBaseUrl, urlList } from '../../client/transport/signal-endpoint.js';

const answer = { type: 'peers', swarm: 's', peers: [], swarmSize: 1, seeders: [], fetchersPerSegment: 1, announceIntervalMs: 500, p2p: true };

test('a failed announce moves to the next tracker of the list, soon; the page then stays on it', async () => {
  const calls: string[] = [];
  const fetchFn = (async (url: string | URL | Request) => {
    const u = String(url);
    calls.push(u);
    if (u.startsWith('http://a/')) throw new TypeError('connection refused');
    return new Response(JSON.stringify(answer), { status: 200 });
  }) as typeof fetch;
  let peers = 0;
  const c = new TrackerClient(['http://a/relaycast/tracker', 'http://b/relaycast/tracker'], () => true, { onPeers: () => peers++, onError: () => undefined }, fetchFn);
  c.setPeerId('peer-1', 'f'.repeat(32));
  c.join('s');
  for (let i = 0; i < 300 && peers < 3; i++) await sleep(10);
  c.destroy();
  assert.ok(peers >= 3, `answers came from the second node (${peers})`);
  assert.equal(calls[0], 'http://a/relaycast/tracker');
  assert.ok(calls.slice(1).every((u) => u === 'http://b/relaycast/tracker'), `then only the live node: ${calls.join(' ')}`);
});

test('prefer() puts the page on the tracker of its signaling node', async () => {
  const calls: string[] = [];
  const fetchFn = (async (url: string | URL | Request) => {
    calls.push(String(url));
    return new Response(JSON.stringify(answer), { status: 200 });
  }) as typeof fetch;
  const c = new TrackerClient(['http://a/t', 'http://b/t'], () => true, { onPeers: () => undefined, onError: () => undefined }, fetchFn);
  c.prefer(1);
  c.prefer(7);
  c.setPeerId('peer-1', 'f'.repeat(32));
  c.join('s');
  for (let i = 0; i < 50 && calls.length === 0; i++) await sleep(10);
  c.destroy();
  assert.deepEqual(calls, ['http://b/t']);
});

test('signaling endpoints: PeerJS 1.5 socket URLs for relative, absolute and https pages; URL lists', () => {
  assert.equal(socketBaseUrl(signalEndpoint('/relaycast/signal', 'http://127.0.0.1:8080/watch/demo'), 'peerjs'), 'ws://127.0.0.1:8080/relaycast/signal/peerjs?key=peerjs');
  assert.equal(socketBaseUrl(signalEndpoint('https://sig.example/relaycast/signal/', 'http://x/'), 'peerjs'), 'wss://sig.example:443/relaycast/signal/peerjs?key=peerjs');
  assert.equal(socketBaseUrl(signalEndpoint('/s', 'https://site.example/p'), 'peerjs'), 'wss://site.example:443/s/peerjs?key=peerjs');
  assert.deepEqual(urlList('/x', '/d'), ['/x']);
  assert.deepEqual(urlList(['', '/a', '/b'], '/d'), ['/a', '/b']);
  assert.deepEqual(urlList([], '/d'), ['/d']);
});
