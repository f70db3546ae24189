// Field readers for parsers of untrusted input. Each takes `unknown` and
// returns the typed value or undefined; parsers turn undefined into a reason.

export type Rec = Readonly<Record<string, unknown>>;

export function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readString(o: Rec, key: string, maxLen: number, minLen = 1): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v.length >= minLen && v.length <= maxLen ? v : undefined;
}

export function readInt(o: Rec, key: string, min: number, max: number): number | undefined {
  const v = o[key];
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined;
}

export function readNumber(o: Rec, key: string, min: number, max: number): number | undefined {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : undefined;
}

export function readBool(o: Rec, key: string): boolean | undefined {
  const v = o[key];
  return typeof v === 'boolean' ? v : undefined;
}

/** Reads an array of at most maxItems, each mapped by `item`; any bad item rejects the whole array. */
export function readArray<T>(o: Rec, key: string, maxItems: number, item: (v: unknown) => T | undefined): T[] | undefined {
  const v = o[key];
  if (!Array.isArray(v) || v.length > maxItems) return undefined;
  const out: T[] = [];
  for (const x of v) {
    const t = item(x);
    if (t === undefined) return undefined;
    out.push(t);
  }
  return out;
}

/** Peer ids, swarm ids and segment ids share one conservative alphabet check. */
export function isSafeId(v: unknown, maxLen: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= maxLen && /^[\x21-\x7e]+$/.test(v);
}
