/**
 * The built adapter (`dist/adapter/cli.js`) in a process of its own, as a streamer runs it: so a
 * test can read its memory (RSS) apart from the browser driver's, and talk to it over HTTP only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findPackageRoot } from '../../origin-adapter/assets.js';

export interface AdapterProcess {
  readonly process: ChildProcess;
  readonly url: string;
  readonly playerUrl: string;
  /** rtmp://127.0.0.1:PORT/live, with --ingest rtmp. */
  readonly ingestUrl: string | undefined;
  /** Resident memory of the adapter process (MB), from /proc. */
  rssMB(): Promise<number>;
  /** Its stdout and stderr so far (the last 20,000 characters). */
  log(): string;
  close(): Promise<void>;
}

export async function startAdapterProcess(args: readonly string[], env: Readonly<Record<string, string>> = {}, timeoutMs = 60_000): Promise<AdapterProcess> {
  const cli = join(findPackageRoot() ?? process.cwd(), 'dist', 'adapter', 'cli.js');
  const p = spawn(process.execPath, [cli, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  const add = (s: Buffer): void => {
    out = (out + s.toString('utf8')).slice(-20_000);
  };
  p.stdout?.on('data', add);
  p.stderr?.on('data', add);
  const killOnExit = (): void => void p.kill('SIGKILL');
  process.on('exit', killOnExit);
  const exited = new Promise<void>((r) => p.on('close', () => r()));
  const ready = await new Promise<{ url: string; playerUrl: string; ingestUrl: string | undefined } | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    const check = (): void => {
      const url = /relaycast adapter on (http:\/\/\S+)/.exec(out)?.[1];
      const playerUrl = /player: (http:\/\/\S+)/.exec(out)?.[1];
      const ingestUrl = /RTMP ingest: (rtmp:\/\/\S+)/.exec(out)?.[1];
      if (url !== undefined && playerUrl !== undefined && (ingestUrl !== undefined || !args.includes('--ingest'))) {
        clearTimeout(timer);
        resolve({ url, playerUrl, ingestUrl });
      }
    };
    p.stdout?.on('data', check);
    void exited.then(() => resolve(undefined));
  });
  const close = async (): Promise<void> => {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
    process.removeListener('exit', killOnExit);
  };
  if (ready === undefined) {
    await close();
    throw new Error(`the adapter did not start:\n${out}`);
  }
  return {
    process: p,
    ...ready,
    async rssMB() {
      const status = await readFile(`/proc/${String(p.pid)}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
    },
    log: () => out,
    close,
  };
}
