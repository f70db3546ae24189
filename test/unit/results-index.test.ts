import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

test('docs/results/README.md is the index of the result files as they are (npm run results:index)', () => {
  const out = execFileSync(process.execPath, ['scripts/results-index.mjs', '--check'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.doesNotMatch(out, /out of date/);
});
