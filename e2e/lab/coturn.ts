/**
 * coturn (Debian's `coturn` package) as the lab's STUN and TURN server: bound to the lab's
 * bridge address only, relaying only to the lab's subnet, with the shared-secret REST scheme
 * (`use-auth-secret`) the adapter's `--turn-secret` hands credentials for. Ready once it
 * answers a STUN binding request; stopped with the lab.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './netlab.js';

export interface Turn {
  /** `stun:HOST:PORT` */
  readonly stunUrl: string;
  /** `turn:HOST:PORT?transport=udp` */
  readonly turnUrl: string;
  readonly secret: string;
  readonly port: number;
  /** coturn's log (in the lab's directory). */
  readonly logFile: string;
  stop(): void;
}

export const COTURN_DEFAULTS = {
  binary: '/usr/bin/turnserver',
  readyTimeoutMs: 10_000,
  /** Relay ports: a block of this many at a random base, so two labs rarely pick the same. */
  relayPorts: 400,
  realm: 'relaycast.lab',
} as const;

/** Why coturn cannot run here, or null. */
export function coturnUnavailable(binary: string = COTURN_DEFAULTS.binary): string | null {
  try {
    accessSync(binary, constants.X_OK);
    return null;
  } catch {
    return `coturn not found at ${binary} (apt-get install -y coturn)`;
  }
}

/** A STUN Binding request (RFC 5389): type 0x0001, no attributes, the magic cookie, a random id. */
export function stunBindingRequest(): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(b, 8);
  return b;
}

/** Whether `msg` is a Binding success response to `req`. */
export function isBindingSuccess(msg: Buffer, req: Buffer): boolean {
  return msg.length >= 20 && msg.readUInt16BE(0) === 0x0101 && msg.subarray(4, 20).equals(req.subarray(4, 20));
}

/** Sends Binding requests to HOST:PORT every 200 ms until one is answered, or rejects after `timeoutMs`. */
export function stunPing(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const req = stunBindingRequest();
    const done = (e?: Error): void => {
      clearInterval(tick);
      clearTimeout(timer);
      sock.close();
      if (e) reject(e);
      else resolve();
    };
    sock.on('message', (m) => {
      if (isBindingSuccess(m, req)) done();
    });
    sock.on('error', () => undefined);
    const send = (): void => sock.send(req, port, host);
    const tick = setInterval(send, 200);
    const timer = setTimeout(() => done(new Error(`coturn did not answer STUN on ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    send();
  });
}

/** A UDP port free on `host` now (coturn binds it a moment later). */
function freeUdpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** coturn's command line: no config file, no database, no TLS, no CLI, relaying to the lab's subnet only. */
export function coturnArgs(o: { host: string; port: number; subnet: string; secret: string; minPort: number; logFile: string; pidFile: string }): string[] {
  const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(o.subnet);
  if (!m) throw new Error(`lab subnet must be a /24: ${o.subnet}`);
  return [
    '-n',
    `--listening-ip=${o.host}`,
    `--relay-ip=${o.host}`,
    `--listening-port=${o.port}`,
    `--min-port=${o.minPort}`,
    `--max-port=${o.minPort + COTURN_DEFAULTS.relayPorts - 1}`,
    '--use-auth-secret',
    `--static-auth-secret=${o.secret}`,
    `--realm=${COTURN_DEFAULTS.realm}`,
    '--fingerprint',
    '--no-tls',
    '--no-dtls',
    '--no-cli',
    '--no-tcp-relay',
    '--no-multicast-peers',
    '--no-software-attribute',
    // Relay to the lab's addresses only: everything else is refused, then the subnet allowed.
    '--denied-peer-ip=0.0.0.0-255.255.255.255',
    `--allowed-peer-ip=${m[1]}.0-${m[1]}.255`,
    `--log-file=${o.logFile}`,
    '--simple-log',
    '--no-stdout-log',
    `--pidfile=${o.pidFile}`,
    `--userdb=${join(o.logFile, '..', 'turndb')}`,
  ];
}

/** Starts coturn on the lab's bridge address; it stops when the lab is destroyed (or with `stop()`). */
export async function startCoturn(lab: Lab, log: (line: string) => void, binary: string = COTURN_DEFAULTS.binary): Promise<Turn> {
  const why = coturnUnavailable(binary);
  if (why !== null) throw new Error(why);
  const port = await freeUdpPort(lab.hostAddress);
  const secret = randomBytes(24).toString('base64url');
  const minPort = 20_000 + 400 * Math.floor(Math.random() * 100);
  const logFile = join(lab.dir, 'turnserver.log');
  const args = coturnArgs({ host: lab.hostAddress, port, subnet: lab.subnet, secret, minPort, logFile, pidFile: join(lab.dir, 'turnserver.pid') });
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  lab.onDestroy(stop);
  try {
    await stunPing(lab.hostAddress, port, COTURN_DEFAULTS.readyTimeoutMs);
  } catch (e) {
    stop();
    throw new Error(`${e instanceof Error ? e.message : String(e)}${exited ? ` (coturn exited: ${stderr.trim()})` : ''}`);
  }
  log(`coturn on ${lab.hostAddress}:${port} (relay ports ${minPort}-${minPort + COTURN_DEFAULTS.relayPorts - 1}, lab subnet only)`);
  return {
    stunUrl: `stun:${lab.hostAddress}:${port}`,
    turnUrl: `turn:${lab.hostAddress}:${port}?transport=udp`,
    secret,
    port,
    logFile,
    stop,
  };
}
