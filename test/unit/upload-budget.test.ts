import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UploadBudget } from '../../client/core/upload-budget.js';

/** A virtual clock: sleeping advances time instantly. */
function virtual() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), elapsed: () => t };
}

test('bytes sent over a period stay within burst + rate x time (within 5% over 60 s)', async () => {
  const c = virtual();
  const rate = 100_000;
  const b = new UploadBudget(rate, c.now, c.sleep);
  let sent = 0;
  while (c.elapsed() < 60_000) {
    await b.take(65_550);
    sent += 65_550;
  }
  const allowed = rate * (c.elapsed() / 1000);
  assert.ok(sent <= allowed * 1.05, `sent ${sent} > ${allowed} * 1.05`);
  assert.ok(sent >= allowed * 0.95, 'the budget is actually usable');
});

test('rate 0 never waits; setRate applies to later sends', async () => {
  const c = virtual();
  const b = new UploadBudget(0, c.now, c.sleep);
  for (let i = 0; i < 100; i++) await b.take(1_000_000);
  assert.equal(c.elapsed(), 0);
  b.setRate(50_000);
  for (let i = 0; i < 10; i++) await b.take(50_000);
  assert.ok(c.elapsed() >= 8_000);
});
