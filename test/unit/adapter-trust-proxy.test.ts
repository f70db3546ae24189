import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startAdapter } from '../../origin-adapter/index.js';
import { httpGet, silent } from './adapter-helpers.js';

test('--trust-proxy: rate limits key on the right-most X-Forwarded-For hop, not the client-written first one', async () => {
  const a = await startAdapter({ port: 0, source: false, log: silent, trustProxy: true });
  try {
    let limited = 0;
    for (let i = 0; i < 400; i++) {
      const r = await httpGet(`${a.url}/relaycast/hash?path=/x.ts`, { headers: { 'x-forwarded-for': `10.1.${i >> 8}.${i & 255}, 203.0.113.7` } });
      if (r.status === 429) limited++;
    }
    assert.ok(limited >= 100, `one client varying the first entry still shares one budget (${limited} answers 429)`);
    const other = await httpGet(`${a.url}/relaycast/hash?path=/x.ts`, { headers: { 'x-forwarded-for': '203.0.113.7, 203.0.113.8' } });
    assert.equal(other.status, 404, 'another client (another right-most hop) has its own budget');
    const junk = await httpGet(`${a.url}/relaycast/hash?path=/x.ts`, { headers: { 'x-forwarded-for': 'not-an-ip' } });
    assert.equal(junk.status, 404, 'a malformed entry falls back to the socket address');
  } finally {
    await a.close();
  }
});
