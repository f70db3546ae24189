// The system programs the tests, the load tool and the benchmarks use, from Debian's packages:
// Chromium (Playwright drives it; its own browser download does not work everywhere), Redis (the
// tests of several adapter nodes start their own on a free loopback port), and for
// the network lab coturn (STUN/TURN) and nftables (the home routers' NAT). Installs what is
// missing when we are root with apt-get; otherwise explains what to do. CHROMIUM_PATH overrides
// the default /usr/bin/chromium. Without coturn or nftables only the NAT lab's tests skip.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (process.env.CHROMIUM_PATH && !existsSync(chromium)) {
  console.error(`CHROMIUM_PATH=${chromium} does not exist`);
  process.exit(1);
}
const redis = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';
// `node scripts/ensure-system.mjs redis-server`: only those packages (a benchmark that needs no browser).
const only = process.argv.slice(2);
const wanted = [
  { pkg: 'chromium', path: chromium, required: true },
  { pkg: 'redis-server', path: redis, required: true },
  { pkg: 'coturn', path: '/usr/bin/turnserver', required: false },
  { pkg: 'nftables', path: '/usr/sbin/nft', required: false },
].filter((w) => only.length === 0 || only.includes(w.pkg));
const missing = wanted.filter((w) => !existsSync(w.path));
if (missing.length === 0) process.exit(0);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = existsSync('/usr/bin/apt-get');
const names = missing.map((m) => m.pkg).join(' ');
if (!isRoot || !hasApt) {
  const required = missing.filter((m) => m.required);
  if (required.length === 0) {
    console.warn(`${names} not installed: the NAT lab's tests will skip (Debian/Ubuntu: sudo apt-get install -y ${names}).`);
    process.exit(0);
  }
  console.error(`Missing: ${required.map((m) => m.path).join(', ')}. Install (Debian/Ubuntu: sudo apt-get install -y ${names}), or set CHROMIUM_PATH / REDIS_SERVER_PATH.`);
  process.exit(1);
}
console.log(`Installing from the system package manager (apt-get install -y ${names})...`);
execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${names}`, { stdio: 'inherit', shell: '/bin/bash' });
// Debian may start coturn and redis-server as services on install; the lab runs its own coturn on
// its bridge only, and each test its own Redis on a port of its own.
for (const service of ['coturn', 'redis-server']) {
  if (!missing.some((m) => m.pkg === service)) continue;
  try {
    execSync(`systemctl disable --now ${service} >/dev/null 2>&1 || service ${service} stop >/dev/null 2>&1 || true`, { stdio: 'ignore', shell: '/bin/bash' });
  } catch {
    // no service manager
  }
}
for (const m of missing) {
  if (!existsSync(m.path)) {
    console.error(`apt-get finished but ${m.path} (${m.pkg}) is still missing`);
    process.exit(1);
  }
}
