/**
 * Proof that a lab's caps are real: a viewer namespace uploads N bytes over HTTP to a server
 * on the host's bridge address, and the server times the body. Through a tbf cap of R Mbit/s,
 * 1 MB takes about 8 / R s (4 s at 2 Mbit/s); without a cap, a small fraction of a second.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { ipBinary, type Lab } from './netlab.js';

export const UPLINK_CHECK_BYTES = 1_000_000;

/** Sends BYTES zero bytes in one POST to URL and prints the server's answer. Runs inside a namespace. */
const UPLOADER = `
const http = require('node:http');
const n = Number(process.env.BYTES);
const req = http.request(process.env.URL, { method: 'POST', headers: { 'content-length': n } }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d) => (body += d));
  res.on('end', () => process.stdout.write(body));
});
req.on('error', (e) => { process.stderr.write(String(e)); process.exit(1); });
req.end(Buffer.alloc(n));
`;

export interface UploadTiming {
  readonly slot: number;
  readonly bytes: number;
  /** From the request's headers to the body's last byte, at the server. */
  readonly seconds: number;
  /** Payload bits per second over that time, Mbit/s (a little below a cap: headers of TCP/IP are not counted). */
  readonly mbps: number;
}

function listen(host: string): Promise<{ server: Server; port: number; times: Map<string, number> }> {
  const times = new Map<string, number>();
  const server = createServer((req, res) => {
    const t0 = process.hrtime.bigint();
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('end', () => {
      const sec = Number(process.hrtime.bigint() - t0) / 1e9;
      times.set(req.url ?? '', sec);
      res.end(JSON.stringify({ bytes: n, seconds: sec }));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr !== null ? addr.port : 0, times });
    });
  });
}

function uploadFrom(ns: string, url: string, bytes: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ipBinary(), ['netns', 'exec', ns, process.execPath, '-e', UPLOADER], {
      env: { ...process.env, URL: url, BYTES: String(bytes) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (err = (err + d).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`upload from ${ns} failed (${code ?? signal ?? '?'}): ${err.trim()}`));
    });
  });
}

/**
 * Times an upload of `bytes` from each of `slots` (default: every capped viewer) to the host,
 * all at once (each crosses only its own cap). Bounded: each upload is killed after 3x the time
 * its cap allows, plus 10 s.
 */
export async function timeUploads(lab: Lab, bytes = UPLINK_CHECK_BYTES, slots?: readonly number[]): Promise<UploadTiming[]> {
  const which = slots ?? lab.viewers.filter((v) => v.uplinkMbps !== null).map((v) => v.slot);
  if (which.length === 0) return [];
  const { server, port, times } = await listen(lab.hostAddress);
  try {
    await Promise.all(
      which.map((slot) => {
        const v = lab.viewers[slot];
        if (!v) throw new Error(`no viewer ${slot} in the lab`);
        const allowMs = v.uplinkMbps === null ? 0 : ((bytes * 8) / (v.uplinkMbps * 1e6)) * 1000;
        return uploadFrom(v.ns, `http://${lab.hostAddress}:${port}/v${slot}`, bytes, 3 * allowMs + 10_000);
      }),
    );
    return which.map((slot) => {
      const seconds = times.get(`/v${slot}`) ?? NaN;
      return { slot, bytes, seconds: Math.round(seconds * 1000) / 1000, mbps: Math.round(((bytes * 8) / seconds / 1e6) * 100) / 100 };
    });
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}
