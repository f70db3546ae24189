import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admitSignal, guardSignaling, MAX_PENDING_INCOMING, type SignalState } from '../../client/transport/signal-guard.js';

const offer = (over: Record<string, unknown> = {}, payload: Record<string, unknown> = {}) => ({
  type: 'OFFER',
  src: 'peer-a',
  dst: 'me',
  payload: { type: 'data', connectionId: 'dc_1', serialization: 'raw', metadata: { relaycastMux: 1 }, sdp: {}, ...payload },
  ...over,
});
const state = (s: Partial<SignalState> = {}): SignalState => ({ banned: () => false, hasConnection: () => false, pendingIncoming: () => 0, ...s });

test('only offers of the kind relaycast makes reach PeerJS', () => {
  assert.equal(admitSignal(offer(), state()), true);
  for (const bad of [
    offer({}, { serialization: 'constructor' }),
    offer({}, { serialization: 'binary' }),
    offer({}, { serialization: '__proto__' }),
    offer({}, { type: 'media' }),
    offer({}, { metadata: { swarm: 'x' } }),
    offer({}, { metadata: undefined }),
    offer({}, { connectionId: 'has space' }),
    offer({ src: 42 }),
    offer({ payload: 'x' }),
  ]) {
    assert.equal(admitSignal(bad, state()), false, JSON.stringify(bad).slice(0, 120));
  }
});

test('offers from a banned peer, for a connection that exists, or past the cap of opening connections are dropped', () => {
  assert.equal(admitSignal(offer(), state({ banned: (id) => id === 'peer-a' })), false);
  assert.equal(admitSignal(offer(), state({ hasConnection: () => true })), false);
  assert.equal(admitSignal(offer(), state({ pendingIncoming: () => MAX_PENDING_INCOMING - 1 })), true);
  assert.equal(admitSignal(offer(), state({ pendingIncoming: () => MAX_PENDING_INCOMING })), false);
});

test('answers and candidates only for connections PeerJS has; other server messages pass', () => {
  const cand = { type: 'CANDIDATE', src: 'peer-a', payload: { connectionId: 'dc_9', candidate: {} } };
  assert.equal(admitSignal(cand, state()), false, 'not stored for later: dropped');
  assert.equal(admitSignal(cand, state({ hasConnection: (p, c) => p === 'peer-a' && c === 'dc_9' })), true);
  assert.equal(admitSignal({ ...cand, type: 'ANSWER' }, state()), false);
  for (const m of [{ type: 'OPEN' }, { type: 'LEAVE', src: 'x' }, { type: 'EXPIRE', src: 'x' }, { type: 'HEARTBEAT' }]) assert.equal(admitSignal(m, state()), true);
  assert.equal(admitSignal('not an object', state()), false);
});

test("the guard sits in front of a Peer's message handling", () => {
  const seen: unknown[] = [];
  const peer = { _handleMessage: (m: unknown) => void seen.push(m), getConnection: () => undefined };
  guardSignaling(peer, { banned: () => false, pendingIncoming: () => 0 });
  for (let i = 0; i < 1000; i++) peer._handleMessage({ type: 'CANDIDATE', src: 'evil', payload: { connectionId: `dc_${i}` } });
  peer._handleMessage(offer());
  assert.deepEqual(seen, [offer()], 'a thousand candidates for unknown connections never reached PeerJS');
});
