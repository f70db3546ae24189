/**
 * One ffmpeg run of a broadcast: spawned with its epoch's arguments, fed FLV on stdin by the
 * ingest (or reading its own input), stopped by closing stdin (ffmpeg then writes its last
 * segment and exits) or by a signal, killed if it does not exit in time, and never left behind
 * when the adapter's process exits.
 */
import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';

export type SpawnFn = (bin: string, args: readonly string[], opts: { stdio: ['pipe' | 'ignore', 'ignore', 'pipe'] }) => ChildProcess;

export const defaultSpawn: SpawnFn = (bin, args, opts) => nodeSpawn(bin, args, opts);

export interface EpochRunOptions {
  readonly bin: string;
  readonly args: readonly string[];
  /** FLV arrives on stdin (the ingest); otherwise ffmpeg reads its own input. */
  readonly stdin: boolean;
  readonly spawn?: SpawnFn;
  /** After stop(): SIGTERM (inputs) or stdin closed (ingest); SIGKILL this long after. */
  readonly killGraceMs?: number;
}

export interface EpochRun {
  /** One FLV chunk for ffmpeg's stdin; false: wait for `onDrain`. */
  write(data: Buffer): boolean;
  onDrain(cb: () => void): void;
  /** Ends the run: ffmpeg finishes its last segment and exits (killed if it does not). Idempotent. */
  stop(): void;
  /** Resolves when ffmpeg has exited: how (exit code or signal). */
  readonly exited: Promise<string>;
  /** ffmpeg's last stderr lines. */
  stderrTail(): string;
}

const STDERR_LINES = 30;

export function startEpochRun(o: EpochRunOptions): EpochRun {
  const spawn = o.spawn ?? defaultSpawn;
  const grace = o.killGraceMs ?? 5000;
  const child = spawn(o.bin, o.args, { stdio: [o.stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
  const tail: string[] = [];
  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    const lines = (partial + s).split('\n');
    partial = (lines.pop() ?? '').slice(-4096);
    for (const l of lines) if (l.trim() !== '') tail.push(l.slice(0, 1000));
    tail.splice(0, Math.max(0, tail.length - STDERR_LINES));
  });
  // ffmpeg gone while the ingest still writes: EPIPE, which must not crash the adapter.
  child.stdin?.on('error', () => undefined);
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.on('exit', killOnExit);
  let killTimer: NodeJS.Timeout | undefined;
  const exited = new Promise<string>((resolve) => {
    const done = (how: string): void => {
      if (killTimer !== undefined) clearTimeout(killTimer);
      process.removeListener('exit', killOnExit);
      resolve(how);
    };
    child.on('error', (e) => {
      tail.push(`spawn error: ${e.message}`);
      done('spawn error');
    });
    child.on('close', (code, signal) => done(code !== null ? `exit ${code}` : `signal ${signal ?? '?'}`));
  });
  let stopped = false;
  return {
    write: (data) => (child.stdin !== null && child.stdin.writable ? child.stdin.write(data) : true),
    onDrain(cb) {
      if (child.stdin === null || !child.stdin.writable || !child.stdin.writableNeedDrain) cb();
      else child.stdin.once('drain', cb);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (o.stdin && child.stdin !== null) child.stdin.end();
      else child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), grace);
      killTimer.unref();
    },
    exited,
    stderrTail: () => tail.join('\n'),
  };
}
