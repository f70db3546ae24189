// Type-checks each runtime against its own lib set: protocol/ without DOM or
// Node types, sw/ against WebWorker, client/ against DOM, the adapter against Node.
import { execFileSync } from 'node:child_process';

const projects = ['protocol', 'sw', 'client', 'origin-adapter', 'sim', '.'];
let failed = false;
for (const p of projects) {
  const cfg = p === '.' ? 'tsconfig.test.json' : `${p}/tsconfig.json`;
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', cfg], { stdio: 'inherit' });
    console.log(`typecheck ok: ${cfg}`);
  } catch {
    failed = true;
    console.error(`typecheck FAILED: ${cfg}`);
  }
}
process.exit(failed ? 1 : 0);
