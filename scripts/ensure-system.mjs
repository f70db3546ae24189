// The system programs the browser tests and the load tool use, from Debian's packages:
// Chromium (Playwright drives it; its own browser download does not work everywhere), and for
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
const wanted = [
  { pkg: 'chromium', path: chromium, required: true },
  { pkg: 'coturn', path: '/usr/bin/turnserver', required: false },
  { pkg: 'nftables', path: '/usr/sbin/nft', required: false },
];
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
  console.error(`Chromium not found at ${chromium}. Install it (Debian/Ubuntu: sudo apt-get install -y ${names}) or set CHROMIUM_PATH.`);
  process.exit(1);
}
console.log(`Installing from the system package manager (apt-get install -y ${names})...`);
execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${names}`, { stdio: 'inherit', shell: '/bin/bash' });
// Debian starts coturn as a service on install; the lab runs its own on its bridge only.
if (missing.some((m) => m.pkg === 'coturn')) {
  try {
    execSync('systemctl disable --now coturn >/dev/null 2>&1 || service coturn stop >/dev/null 2>&1 || true', { stdio: 'ignore', shell: '/bin/bash' });
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
