/**
 * A second signaling node for a load run (`--nodes 2`): a Redis, and an adapter serving only
 * signaling and the tracker in a process of its own, beside the run's adapter (which joins the
 * same Redis). Viewers alternate: even slots start on the run's adapter, odd ones on the second
 * node, each with the other as its fallback. `--kill-node-at S` kills the second node (SIGKILL).
 */
import { startAdapterProcess, type AdapterProcess } from '../../test/support/adapter-process.js';
import { startRedis, type RedisServer } from '../../test/support/redis-server.js';

export interface SecondNode {
  readonly redisUrl: string;
  readonly url: string;
  /** The client options that put viewer slot `slot` on its node first. */
  viewerOptions(slot: number, firstNodeUrl: string): Record<string, unknown>;
  readonly killed: boolean;
  kill(): Promise<void>;
  close(): Promise<void>;
}

export async function startSecondNode(): Promise<SecondNode> {
  const redis: RedisServer = await startRedis();
  let node: AdapterProcess;
  try {
    node = await startAdapterProcess(['--no-source', '--vod-sec', '0', '--redis', redis.url]);
  } catch (e) {
    await redis.stop();
    throw e;
  }
  let killed = false;
  return {
    redisUrl: redis.url,
    url: node.url,
    viewerOptions(slot, first) {
      const order = slot % 2 === 0 ? [first, node.url] : [node.url, first];
      return { signalUrl: order.map((u) => `${u}/relaycast/signal`), trackerUrl: order.map((u) => `${u}/relaycast/tracker`) };
    },
    get killed() {
      return killed;
    },
    async kill() {
      killed = true;
      await node.kill();
    },
    async close() {
      await node.kill();
      await redis.stop();
    },
  };
}
