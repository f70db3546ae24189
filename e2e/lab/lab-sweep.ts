/**
 * Finding and removing labs: every object a lab creates carries its owner (pid and start time)
 * in its name or alias, so a sweep removes what a crashed or killed run left and never touches a
 * lab whose process still runs.
 */
import { readdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binaries, exec, killNamespace, tryRun } from './lab-exec.js';
import { parseTag, randOfLink, tagOfNamespace, type LabOwner } from './plan.js';

/** pid and start time of a process, or undefined when it does not run. */
function processOwner(pid: number): LabOwner | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, startTicks: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

export function selfOwner(): LabOwner {
  const o = processOwner(process.pid);
  if (!o) throw new Error('network lab: cannot read /proc/self/stat');
  return o;
}

function ownerAlive(o: LabOwner): boolean {
  const now = processOwner(o.pid);
  return now !== undefined && now.startTicks === o.startTicks;
}

interface LinkInfo {
  readonly name: string;
  readonly alias: string | undefined;
  readonly kind: string | undefined;
}

function listLinks(): LinkInfo[] {
  const raw: unknown = JSON.parse(exec(binaries().ip, ['-j', '-d', 'link', 'show']) || '[]');
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((l: unknown): LinkInfo[] => {
    if (typeof l !== 'object' || l === null) return [];
    const r = l as Record<string, unknown>;
    const info = r['linkinfo'];
    const kind = typeof info === 'object' && info !== null ? (info as Record<string, unknown>)['info_kind'] : undefined;
    return typeof r['ifname'] === 'string'
      ? [{ name: r['ifname'], alias: typeof r['ifalias'] === 'string' ? r['ifalias'] : undefined, kind: typeof kind === 'string' ? kind : undefined }]
      : [];
  });
}

function listNamespaces(): string[] {
  const raw: unknown = JSON.parse(exec(binaries().ip, ['-j', 'netns', 'list']) || '[]');
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((n: unknown) => {
    const name = typeof n === 'object' && n !== null ? (n as Record<string, unknown>)['name'] : undefined;
    return typeof name === 'string' ? [name] : [];
  });
}

/** Namespaces, links and the wrappers' directory of the lab tagged `tag` that still exist. */
export function labLeftovers(tag: string): string[] {
  const rand = parseTag(tag)?.rand;
  const ns = listNamespaces().filter((n) => tagOfNamespace(n) === tag);
  const links = listLinks().filter((l) => l.alias === tag || (rand !== undefined && randOfLink(l.name) === rand));
  const dir = join(tmpdir(), tag);
  return [...ns, ...links.map((l) => l.name), ...(existsSync(dir) ? [dir] : [])];
}

/**
 * Removes every lab whose owning process is gone (a crashed, killed or interrupted run):
 * its namespaces (after killing what runs in them), its bridge and veths and its Chromium
 * wrappers' directory. Labs of running
 * processes are left alone. Returns the names removed.
 */
export function cleanStaleLabs(): string[] {
  const namespaces = listNamespaces();
  const links = listLinks();
  const liveRands = new Set<string>();
  const staleNs: string[] = [];
  for (const ns of namespaces) {
    const tag = tagOfNamespace(ns);
    const parsed = tag === undefined ? undefined : parseTag(tag);
    if (!parsed) continue;
    if (ownerAlive(parsed.owner)) liveRands.add(parsed.rand);
    else staleNs.push(ns);
  }
  for (const l of links) {
    const parsed = l.alias === undefined ? undefined : parseTag(l.alias);
    if (parsed && ownerAlive(parsed.owner)) liveRands.add(parsed.rand);
  }
  // A lab link is stale when nothing alive claims its rand: not its alias, not a namespace of the same lab.
  const staleLinks = links.filter((l) => {
    const rand = randOfLink(l.name);
    if (rand === undefined || liveRands.has(rand)) return false;
    const parsed = l.alias === undefined ? undefined : parseTag(l.alias);
    if (l.alias !== undefined && (!parsed || parsed.rand !== rand)) return false; // someone else's link that happens to match
    return l.kind === 'veth' || l.kind === 'bridge';
  });
  const staleDirs = readdirSync(tmpdir()).filter((d) => {
    const parsed = parseTag(d);
    return parsed !== undefined && !ownerAlive(parsed.owner);
  });
  for (const d of staleDirs) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  for (const ns of staleNs) killNamespace(ns);
  // veths before namespaces before bridges, as in teardownCommands.
  for (const l of staleLinks.filter((x) => x.kind === 'veth')) tryRun({ program: 'ip', args: ['link', 'del', 'dev', l.name] });
  for (const ns of staleNs) tryRun({ program: 'ip', args: ['netns', 'del', ns] });
  for (const l of staleLinks.filter((x) => x.kind === 'bridge')) tryRun({ program: 'ip', args: ['link', 'del', 'dev', l.name] });
  return [...staleNs, ...staleLinks.map((l) => l.name), ...staleDirs.map((d) => join(tmpdir(), d))];
}
