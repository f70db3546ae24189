import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../../origin-adapter/rate-limit.js';

test('a burst, then the steady rate; keys are independent and bounded', () => {
  let t = 0;
  const r = new RateLimiter(5, 2, 3, () => t);
  for (let i = 0; i < 5; i++) assert.ok(r.allow('a'));
  assert.equal(r.allow('a'), false);
  assert.ok(r.allow('b'), 'another key has its own bucket');
  t += 1000;
  assert.ok(r.allow('a'));
  assert.ok(r.allow('a'));
  assert.equal(r.allow('a'), false);
  for (const k of ['c', 'd', 'e', 'f']) r.allow(k);
  assert.ok(r.allow('a'), 'a forgotten key starts with a full bucket (bounded memory)');
});
