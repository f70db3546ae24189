import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

let cached: Promise<string> | undefined;

/** The malicious client bundle (IIFE), built once per process. */
export function maliciousBundle(): Promise<string> {
  cached ??= build({
    entryPoints: [fileURLToPath(new URL('./malicious-entry.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2022',
    logLevel: 'warning',
  }).then((r) => {
    const out = r.outputFiles[0];
    if (!out) throw new Error('malicious bundle: no output');
    return out.text;
  });
  return cached;
}
