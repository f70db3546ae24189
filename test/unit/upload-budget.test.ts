import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UploadBudget } from '../../client/core/upload-budget.js';
import { AUTO_UPLOAD, parseUploadSetting, UploadAllowance, uploadRate } from '../../client/core/upload-allowance.js';

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

test("'auto' follows the stream: 6 x its bitrate, within a 2 MB/s floor and an 8 MB/s ceiling", () => {
  assert.equal(uploadRate('auto', 0), AUTO_UPLOAD.floorBytesPerSec, 'nothing known yet: the floor');
  assert.equal(uploadRate('auto', 312_500), 2_000_000, '2.5 Mb/s: 6 x is below the floor');
  assert.equal(uploadRate('auto', 750_000), 4_500_000, '6 Mb/s: 6 x the bitrate');
  assert.equal(uploadRate('auto', 2_000_000), 8_000_000, '16 Mb/s: the ceiling');
  assert.equal(uploadRate('auto', Number.NaN), 2_000_000);
  assert.equal(uploadRate('auto', 7_500, 100), 45_000, 'scaled payloads: floor, ceiling and rate in the same units');
  assert.equal(uploadRate(500_000, 5_000_000), 500_000, "a site's number is the budget, whatever the bitrate");
  assert.equal(uploadRate(0, 750_000), 0, '0 = no limit');
  assert.equal(uploadRate(-1, 750_000), 0);
});

test('upload settings from untrusted input: numbers >= 0 and auto, nothing else', () => {
  assert.equal(parseUploadSetting('auto'), 'auto');
  assert.equal(parseUploadSetting('500000'), 500_000);
  assert.equal(parseUploadSetting(0), 0);
  for (const bad of ['', ' ', 'fast', '-1', -5, Number.POSITIVE_INFINITY, Number.NaN, null, undefined, {}, '1e400']) assert.equal(parseUploadSetting(bad), undefined, String(bad));
});

test('the allowance retunes the bucket as the measured bitrate changes, and a site setting replaces it', async () => {
  const c = virtual();
  let stream = 0;
  const bucket = new UploadBudget(0, c.now, c.sleep);
  const a = new UploadAllowance('auto', () => stream, bucket);
  await a.take(1);
  assert.equal(bucket.rate, 2_000_000);
  stream = 1_000_000; // 8 Mb/s
  await a.take(1);
  assert.equal(bucket.rate, 6_000_000);
  const t0 = c.elapsed();
  for (let i = 0; i < 60; i++) await a.take(100_000);
  const sec = (c.elapsed() - t0) / 1000;
  assert.ok(sec >= 0.75 && sec <= 1.05, `6 MB sent at 6 MB/s in ${sec} s`);
  a.set(250_000);
  await a.take(1);
  assert.equal(bucket.rate, 250_000);
  stream = 3_000_000;
  await a.take(1);
  assert.equal(bucket.rate, 250_000, "a fixed budget does not follow the stream");
});
