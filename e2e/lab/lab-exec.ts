/** Running the lab's `ip`, `tc`, `nft` and sysctl steps (`plan.ts` and `nat-plan.ts` make them). */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { NftCommand } from './nat-plan.js';
import type { Command } from './command.js';
import { LAB_DEFAULTS } from './plan.js';

function findBinary(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

let bins: { ip: string; tc: string } | undefined;
export function binaries(): { ip: string; tc: string } {
  if (bins) return bins;
  const ip = findBinary('ip');
  const tc = findBinary('tc');
  if (!ip || !tc) throw new Error('the network lab needs iproute2 (ip and tc)');
  bins = { ip, tc };
  return bins;
}

/** The `ip` binary the lab uses. */
export function ipBinary(): string {
  return binaries().ip;
}

export function exec(bin: string, args: readonly string[], input?: string): string {
  return execFileSync(bin, args, {
    encoding: 'utf8',
    timeout: LAB_DEFAULTS.commandTimeoutMs,
    ...(input === undefined ? { stdio: ['ignore', 'pipe', 'pipe'] as const } : { input, stdio: ['pipe', 'pipe', 'pipe'] as const }),
  });
}

export function errText(e: unknown): string {
  const stderr = (e as { stderr?: unknown }).stderr;
  return (typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

let nftPath: string | undefined;
/** The `nft` binary (Debian's nftables), needed for the lab's NATs only. */
export function nftBinary(): string {
  nftPath ??= findBinary('nft');
  if (nftPath === undefined) throw new Error('the NAT lab needs nftables (apt-get install -y nftables)');
  return nftPath;
}

/** Runs one step; throws with the command line and its stderr. */
export function runCommand(c: Command | NftCommand): void {
  const b = binaries();
  try {
    if ('nft' in c) {
      exec(b.ip, ['netns', 'exec', c.nft, nftBinary(), '-f', '-'], c.script);
    } else if ('program' in c) {
      exec(c.program === 'ip' ? b.ip : b.tc, c.args);
    } else if (c.ns === undefined) {
      writeFileSync(join('/proc/sys', c.sysctl), c.value);
    } else {
      // /proc/sys/net shows the namespace of the process that reads it.
      exec(b.ip, ['netns', 'exec', c.ns, 'sh', '-c', 'printf %s "$1" > "/proc/sys/$0"', c.sysctl, c.value]);
    }
  } catch (e) {
    const what = 'nft' in c ? `nft -f - in ${c.nft}` : 'program' in c ? `${c.program} ${c.args.join(' ')}` : `sysctl ${c.sysctl}=${c.value}${c.ns ? ` in ${c.ns}` : ''}`;
    throw new Error(`network lab: ${what}: ${errText(e)}`);
  }
}

/** Kills every process inside a namespace (only the lab's own: a lab namespace runs nothing else). */
export function killNamespace(ns: string): void {
  let pids: number[] = [];
  try {
    pids = exec(binaries().ip, ['netns', 'pids', ns]).split(/\s+/).filter((p) => /^\d+$/.test(p)).map(Number);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function tryRun(c: Command): void {
  try {
    runCommand(c);
  } catch {
    // Removal from a partial state: the object may not exist.
  }
}
