import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startAdapter } from '../../origin-adapter/index.js';
import { runAttack } from '../../e2e/attack/run.js';
import { loopbackTarget } from '../../e2e/attack/target.js';
import { silent } from './adapter-helpers.js';

test('the attack suite refuses targets off loopback', async () => {
  for (const url of ['http://192.0.2.1:8080', 'https://127.0.0.1', 'http://10.0.0.1', 'not a url']) {
    assert.equal((await loopbackTarget(url)).ok, false, url);
  }
  assert.equal((await loopbackTarget('http://127.0.0.1:9')).ok, true);
  assert.equal((await loopbackTarget('http://[::1]:9')).ok, true);
  await assert.rejects(runAttack({ url: 'http://192.0.2.1:80', maxProbes: 10, maxSeconds: 5 }), /not a loopback address/);
});

test('the attack suite against an adapter: bounded, every check holds, no adapter error, still alive', { timeout: 60_000 }, async () => {
  const a = await startAdapter({ port: 0, source: false, log: silent, adminToken: 'tok', connections: { headersTimeoutMs: 1500, checkIntervalMs: 250 } });
  try {
    const r = await runAttack({ url: a.url, adminToken: 'tok', maxProbes: 4000, maxSeconds: 20 });
    assert.ok(r.probes > 1000 && r.probes <= 4000, `${r.probes} probes`);
    assert.ok(r.durationSec <= 25, `${r.durationSec} s`);
    assert.deepEqual(r.checks.filter((c) => !c.ok), [], 'every check holds');
    assert.equal(r.adapterErrors.count, 0, r.adapterErrors.samples.join('; '));
    assert.equal(r.alive, true);
    assert.ok(r.rss !== null && r.rss.growthMB < 100, `rss ${JSON.stringify(r.rss)}`);
  } finally {
    await a.close();
  }
});
