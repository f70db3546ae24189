/**
 * The shared state in Redis (ioredis): one connection for commands, one for subscriptions.
 * Commands fail at once while Redis is unreachable (no offline queue: a node then works on its
 * own view instead of piling up requests), and both connections retry in the background.
 *
 * Keys (all under `relaycast:`): `peer:<id>` = `<node> <tokenHash>` with a TTL the holding node
 * refreshes; `nodes`, a sorted set of node ids scored by when they expire (Redis's own clock,
 * so nodes on machines with skewed clocks agree); `leader`, the lease of the node that ranks
 * seeders. Check-and-set steps run as Lua scripts, so two nodes cannot interleave them.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { parsePeerRecord, type ClaimResult, type ClusterStore, NODE_ID } from './store.js';

const PREFIX = 'relaycast:';
const NODES = `${PREFIX}nodes`;
const LEADER = `${PREFIX}leader`;
const peerKey = (id: string): string => `${PREFIX}peer:${id}`;

/** Live nodes: drop the expired ones, (re)score this one, list the rest. */
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
return redis.call('ZRANGE', KEYS[1], 0, 999)`;

/** Bind an id to a record unless another token holds it. */
const CLAIM = `
local v = redis.call('GET', KEYS[1])
local sp = v and string.find(v, ' ', 1, true)
if sp and string.sub(v, sp + 1) ~= ARGV[2] then return 'taken' end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[3])
if sp then return 'from:' .. string.sub(v, 1, sp - 1) end
return 'new'`;

const RELEASE = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then return redis.call('DEL', KEYS[1]) end
return 0`;

const LEAD = `
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

const LEAVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1`;

export interface RedisStoreOptions {
  /** redis://HOST:PORT (or rediss://, with a password or a database number as ioredis reads them). */
  readonly url: string;
  readonly log: (line: string) => void;
}

function parseClaim(v: unknown): ClaimResult | undefined {
  if (v === 'new') return { kind: 'new' };
  if (v === 'taken') return { kind: 'taken' };
  if (typeof v === 'string' && v.startsWith('from:') && NODE_ID.test(v.slice(5))) return { kind: 'resumed', from: v.slice(5) };
  return undefined;
}

export function createRedisStore(o: RedisStoreOptions): ClusterStore {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    autoResubscribe: false,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    lazyConnect: false,
  };
  // Commands issued in one tick (a burst of relayed messages) leave in one write.
  const cmd = new Redis(o.url, { ...options, enableAutoPipelining: true });
  const sub = new Redis(o.url, options);
  const readyFns: (() => void)[] = [];
  const downFns: (() => void)[] = [];
  const handlers = new Map<string, (text: string) => void>();
  let wasReady = false;
  let closed = false;
  const isReady = (): boolean => !closed && cmd.status === 'ready' && sub.status === 'ready';

  const check = (): void => {
    const r = isReady();
    if (r === wasReady) return;
    wasReady = r;
    o.log(r ? 'redis: connected' : 'redis: connection lost; this node works on its own view until it is back');
    for (const f of r ? readyFns : downFns) f();
  };
  for (const c of [cmd, sub]) {
    // Errors are reported through the state change; ioredis keeps reconnecting.
    c.on('error', () => undefined);
    c.on('ready', check);
    c.on('close', check);
    c.on('end', check);
  }
  sub.on('ready', () => {
    if (handlers.size > 0) sub.subscribe(...handlers.keys()).catch(() => undefined);
  });
  sub.on('message', (channel: unknown, message: unknown) => {
    if (typeof channel !== 'string' || typeof message !== 'string') return;
    handlers.get(channel)?.(message);
  });

  const evalScript = (lua: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> => cmd.eval(lua, keys.length, ...keys, ...args);

  return {
    get ready() {
      return isReady();
    },
    onReady: (f) => void readyFns.push(f),
    onDown: (f) => void downFns.push(f),
    async heartbeat(node, ttlMs) {
      const v = await evalScript(HEARTBEAT, [NODES], [node, ttlMs]);
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && NODE_ID.test(x)) : [];
    },
    async leave(node) {
      await evalScript(LEAVE, [NODES, LEADER], [node]);
    },
    async claim(id, rec, ttlMs) {
      const r = parseClaim(await evalScript(CLAIM, [peerKey(id)], [rec.node, rec.tokenHash, ttlMs]));
      if (r === undefined) throw new Error('redis: unexpected claim answer');
      return r;
    },
    async refresh(ids, ttlMs) {
      if (ids.length === 0) return;
      const p = cmd.pipeline();
      for (const id of ids) p.pexpire(peerKey(id), ttlMs);
      await p.exec();
    },
    async release(id, node) {
      await evalScript(RELEASE, [peerKey(id)], [node]);
    },
    async locate(id) {
      return parsePeerRecord(await cmd.get(peerKey(id)));
    },
    async lead(node, ttlMs) {
      return (await evalScript(LEAD, [LEADER], [node, ttlMs])) === 1;
    },
    async publish(channel, text) {
      return cmd.publish(channel, text);
    },
    async subscribe(channel, onText) {
      handlers.set(channel, onText);
      // Otherwise (or if this fails) the subscriber's next 'ready' subscribes it.
      if (sub.status === 'ready') await sub.subscribe(channel).catch(() => undefined);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([cmd.quit().catch(() => cmd.disconnect()), sub.quit().catch(() => sub.disconnect())]);
    },
  };
}

