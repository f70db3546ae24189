/** What the command-line tools (`npm run load`, `npm run bench:*`) share: errors with the usage, --help, integers, JSON objects. */

/** Prints `msg` and the usage, and exits 2. */
export function failWith(usage: string, msg: string): never {
  console.error(`${msg}\n${usage}`);
  process.exit(2);
}

/** `parse` (node:util parseArgs) run with its errors and --help answered with the usage. */
export function readArgs<V extends { readonly help?: boolean | undefined }>(usage: string, parse: () => V): V {
  let v: V;
  try {
    v = parse();
  } catch (e) {
    failWith(usage, e instanceof Error ? e.message : String(e));
  }
  if (v.help) {
    console.log(usage);
    process.exit(0);
  }
  return v;
}

/** An integer flag of at least `min`, `dflt` when absent. */
export function intArg(usage: string, name: string, v: string | undefined, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) failWith(usage, `--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** A flag holding a JSON object (e.g. --client-options), undefined when absent. */
export function jsonObjectArg(usage: string, name: string, v: string | undefined): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    failWith(usage, `--${name} must be a JSON object: ${String(e)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) failWith(usage, `--${name} must be a JSON object`);
  return Object.fromEntries(Object.entries(parsed));
}
