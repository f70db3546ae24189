/** Expected outcomes are values, not exceptions. */
export type Result<T, E extends string = string> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <T = never, E extends string = string>(reason: E): Result<T, E> => ({ ok: false, reason });
