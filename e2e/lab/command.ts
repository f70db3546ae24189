/**
 * One step of building or removing the lab: `ip` or `tc` with its arguments (the runner,
 * `lab-exec.ts`, resolves the binary), or a sysctl written on the host (`ns` undefined) or inside
 * a namespace (`/proc/sys/net` is per namespace). `plan.ts` and `nat-plan.ts` make them.
 */
export type Command =
  | { readonly program: 'ip' | 'tc'; readonly args: readonly string[] }
  | { readonly sysctl: string; readonly value: string; readonly ns?: string };

export const ip = (...args: string[]): Command => ({ program: 'ip', args });
export const tc = (...args: string[]): Command => ({ program: 'tc', args });
export const sysctl = (key: string, value: string, ns?: string): Command => ({ sysctl: key, value, ...(ns !== undefined ? { ns } : {}) });
