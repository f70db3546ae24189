/**
 * An adapter as a process of its own (the CLI, through tsx), so a test can kill it the way a
 * machine dies: SIGKILL, no goodbye to Redis or to its sockets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface AdapterProcess {
  readonly url: string;
  readonly process: ChildProcess;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
}

export function startAdapterProcess(args: readonly string[]): Promise<AdapterProcess> {
  const p = spawn(process.execPath, ['--import', 'tsx', 'origin-adapter/cli.ts', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const onExit = (): void => void p.kill('SIGKILL');
  process.once('exit', onExit);
  const kill = async (): Promise<void> => {
    process.off('exit', onExit);
    if (p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void kill();
      reject(new Error(`adapter process did not start: ${out}`));
    }, 60_000);
    const read = (d: Buffer): void => {
      out += d.toString();
      const m = /relaycast adapter on (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ url: m[1], process: p, kill });
      }
    };
    p.stdout?.on('data', read);
    p.stderr?.on('data', (d: Buffer) => void (out += d.toString()));
    p.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`adapter process exited (${String(code)}): ${out}`));
    });
  });
}
