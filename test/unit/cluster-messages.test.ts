// What comes through Redis is untrusted: every channel message is parsed strictly, capped, and a
// bad one dropped whole.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_CHANNEL_CHARS, parseBusMessage, parseInboxMessage } from '../../origin-adapter/cluster/messages.js';

const NODE = '0123456789abcdef';

test('inbox messages: only relays of known types between safe ids, and moves to a node id', () => {
  const relay = { t: 'relay', type: 'OFFER', src: 'a', dst: 'b', payload: { sdp: 'x' }, addr: '10.0.0.1', hop: 0 };
  assert.deepEqual(parseInboxMessage(JSON.stringify(relay)), { ok: true, value: relay });
  for (const bad of [
    { ...relay, type: 'HEARTBEAT' },
    { ...relay, type: '__proto__' },
    { ...relay, src: 'a b' },
    { ...relay, dst: 'x'.repeat(65) },
    { ...relay, hop: 2 },
    { ...relay, addr: '' },
    { t: 'moved', id: 'a', to: 'not-a-node' },
    { t: 'nope' },
    [],
    null,
  ]) {
    assert.equal(parseInboxMessage(JSON.stringify(bad)).ok, false, JSON.stringify(bad));
  }
  assert.equal(parseInboxMessage('{').ok, false);
  assert.equal(parseInboxMessage(' '.repeat(MAX_CHANNEL_CHARS + 1)).ok, false, 'size checked before JSON.parse');
  assert.deepEqual(parseInboxMessage(JSON.stringify({ t: 'moved', id: 'a', to: NODE })), { ok: true, value: { t: 'moved', id: 'a', to: NODE } });
});

test('bus messages: announces parsed as at the tracker (a token that came along is dropped), bounded lists, known modes', () => {
  const a = { type: 'announce', swarm: 's', peerId: 'p', uploads: true, token: 'secret-token-0123456789' };
  const r = parseBusMessage(JSON.stringify({ t: 'announces', from: NODE, items: [{ a, addr: '10.0.0.1' }] }));
  assert.ok(r.ok && r.value.t === 'announces');
  assert.deepEqual(r.value.items[0]?.a, { type: 'announce', swarm: 's', peerId: 'p', uploads: true });
  for (const bad of [
    { t: 'announces', from: NODE, items: [{ a: { ...a, uploads: 'yes' } }] },
    { t: 'announces', from: 'x', items: [] },
    { t: 'seeders', from: NODE, items: [{ swarm: 's', seeders: Array.from({ length: 65 }, (_, i) => `p${i}`) }] },
    { t: 'rates', from: NODE, name: 'http', items: [['10.0.0.1', -5]] },
    { t: 'rates', from: NODE, name: 'http', items: [['10.0.0.1', 1.5]] },
    { t: 'rates', from: NODE, name: 'http', items: Array.from({ length: 2001 }, () => ['k', 1]) },
    { t: 'p2p', from: NODE, mode: 'maybe' },
  ]) {
    assert.equal(parseBusMessage(JSON.stringify(bad)).ok, false, JSON.stringify(bad).slice(0, 80));
  }
  assert.deepEqual(parseBusMessage(JSON.stringify({ t: 'p2p', from: NODE, mode: 'off' })), { ok: true, value: { t: 'p2p', from: NODE, mode: 'off' } });
});
