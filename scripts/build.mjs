// One esbuild build for every runtime:
//   dist/browser/sw.js         classic service-worker script (IIFE)
//   dist/browser/relaycast.js  script-tag build: the one-line registration (IIFE, global `relaycast`)
//   dist/esm/                  ESM library for bundler users (+ .d.ts from tsc into dist/types)
//   dist/adapter/cli.js        the origin adapter (Node ESM, dependencies external)
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const common = { bundle: true, sourcemap: true, logLevel: 'warning', target: 'es2022' };

await Promise.all([
  build({ ...common, entryPoints: ['sw/index.ts'], outfile: 'dist/browser/sw.js', format: 'iife', minify: true }),
  build({ ...common, entryPoints: ['client/script-tag.ts'], outfile: 'dist/browser/relaycast.js', format: 'iife', minify: true }),
  build({
    ...common,
    entryPoints: ['client/index.ts'],
    outdir: 'dist/esm/client',
    format: 'esm',
    packages: 'external',
  }),
  build({
    ...common,
    entryPoints: ['origin-adapter/cli.ts', 'origin-adapter/index.ts'],
    outdir: 'dist/adapter',
    platform: 'node',
    format: 'esm',
    packages: 'external',
    banner: { js: '#!/usr/bin/env node' },
  }),
]);

// Declarations for the ESM library (types of the public client API).
execFileSync(
  process.execPath,
  [
    'node_modules/typescript/bin/tsc', '-p', 'client/tsconfig.json',
    '--noEmit', 'false', '--declaration', '--emitDeclarationOnly', '--declarationDir', 'dist/types',
    '--rootDir', '.',
  ],
  { stdio: 'inherit' },
);
console.log('build ok: dist/browser/{sw,relaycast}.js dist/esm dist/types dist/adapter');
