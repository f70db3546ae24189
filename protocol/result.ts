/** Expected outcomes are values, not exceptions. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const err = <T = never>(reason: string): Result<T> => ({ ok: false, reason });
