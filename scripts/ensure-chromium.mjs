// Browser tests drive the system Chromium (Playwright's own browser download does not work
// everywhere). Installs Debian's chromium when it is missing and we are root with apt-get;
// otherwise explains what to do. CHROMIUM_PATH overrides the default /usr/bin/chromium.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);
if (process.env.CHROMIUM_PATH) {
  console.error(`CHROMIUM_PATH=${path} does not exist`);
  process.exit(1);
}
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = existsSync('/usr/bin/apt-get');
if (!isRoot || !hasApt) {
  console.error('Chromium not found at /usr/bin/chromium. Install it (Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH.');
  process.exit(1);
}
console.log('Installing Chromium from the system package manager (apt-get install -y chromium)...');
execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', { stdio: 'inherit', shell: '/bin/bash' });
if (!existsSync(path)) {
  console.error('apt-get finished but /usr/bin/chromium is still missing');
  process.exit(1);
}
