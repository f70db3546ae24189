import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VodPersistence, type KeyValue } from '../../client/storage/vod-persist.js';
import type { StoredSegment } from '../../client/storage/store.js';

function memoryKv(): KeyValue & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  return {
    map,
    get: async (k) => map.get(k),
    set: async (k, v) => void map.set(k, v),
    del: async (k) => void map.delete(k),
  };
}

const seg = (id: string, seq: number, n: number): StoredSegment => ({ id, seq, bytes: new Uint8Array(n).fill(seq), source: 'peer', hop: 1 });

test('VOD disk cache: keeps played segments per swarm under a byte cap, oldest out first, survives a restart', async () => {
  const kv = memoryKv();
  let t = 0;
  const p = new VodPersistence(kv, 250, () => t++);
  await p.put('A', seg('a1', 1, 100));
  await p.put('A', seg('a2', 2, 100));
  await p.put('A', seg('a2', 2, 100)); // duplicate: ignored
  await p.put('B', seg('b1', 1, 100)); // 300 > 250: a1 goes
  await p.put('A', seg('huge', 9, 300)); // larger than the cap: never kept
  const again = new VodPersistence(kv, 250, () => t++); // a new page load reads the same database
  const a = await again.restore('A', 1000);
  assert.deepEqual(a.map((s) => s.id), ['a2']);
  assert.equal(a[0]?.bytes[0], 2);
  assert.deepEqual((await again.restore('B', 1000)).map((s) => s.id), ['b1']);
  assert.deepEqual(await again.restore('B', 50), [], 'restores only what fits the memory store');
  assert.equal([...kv.map.keys()].filter((k) => k.startsWith('seg:')).length, 2, 'evicted bytes are deleted');
});

test('VOD disk cache: a corrupt index or entry is dropped, never returned; storage errors mean no cache', async () => {
  const kv = memoryKv();
  kv.map.set('index', [{ key: 'seg:x', swarm: 'A', id: 'x', seq: 1, bytes: 4, hop: 0, t: 0 }, { junk: true }, 'nope']);
  kv.map.set('seg:x', new Uint8Array(3)); // wrong length
  const p = new VodPersistence(kv, 1000);
  assert.deepEqual(await p.restore('A', 1000), []);
  const failing: KeyValue = { get: () => Promise.reject(new Error('quota')), set: () => Promise.reject(new Error('quota')), del: async () => undefined };
  const q = new VodPersistence(failing, 1000);
  await q.put('A', seg('a', 1, 10));
  assert.deepEqual(await q.restore('A', 1000), []);
});
