/**
 * Bounded collections in insertion order: the oldest entry goes first when full.
 * Every cache, registry and ban list that takes keys from the network uses these,
 * so none grows without bound.
 */

/** Sets `key` as the newest entry of `map` and drops the oldest entries beyond `max`. */
export function putBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const first = map.keys().next();
    if (first.done) break;
    map.delete(first.value);
  }
}

/** Adds `value` to `set` if absent (an existing entry keeps its place) and drops the oldest beyond `max`. */
export function addBounded<T>(set: Set<T>, value: T, max: number): void {
  if (set.has(value)) return;
  set.add(value);
  while (set.size > max) {
    const first = set.values().next();
    if (first.done) break;
    set.delete(first.value);
  }
}
