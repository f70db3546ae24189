/// <reference lib="webworker" />
import { requestOverPort } from '../protocol/port-request.js';
import { parseSegmentReply, type SegmentFetched, type SegmentGet, type PlaylistUpdate } from '../protocol/worker.js';

/** The subset of the worker's `clients` we use, so tests can pass a fake. */
export interface ClientsLike {
  get(id: string): Promise<Client | undefined>;
  matchAll(opts: ClientQueryOptions): Promise<readonly Client[]>;
}

export type PageAnswer = { readonly hit: true; readonly bytes: ArrayBuffer } | { readonly hit: false; readonly reason: string };

/**
 * The worker's side of the worker<->page bridge. Pages running a mesh say so
 * with `rc-mesh` every few seconds; a worker stopped while idle loses this map
 * and falls back to the origin until the next hello.
 */
export class PageLink {
  private readonly meshClients = new Map<string, number>();
  private nextReqId = 1;

  constructor(
    private readonly clients: ClientsLike,
    private readonly helloTtlMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  hello(clientId: string): void {
    this.meshClients.set(clientId, this.now());
  }

  /** The page that should handle a request: the requesting page if it runs a mesh, else any window that does. */
  async pick(clientId: string | undefined): Promise<Client | undefined> {
    const fresh = (id: string): boolean => {
      const t = this.meshClients.get(id);
      if (t === undefined) return false;
      if (this.now() - t > this.helloTtlMs) {
        this.meshClients.delete(id);
        return false;
      }
      return true;
    };
    if (clientId && fresh(clientId)) {
      const c = await this.clients.get(clientId);
      if (c) return c;
    }
    // No page has said hello (a page before its mesh starts, the common case of one tab): the origin
    // answers at once, without asking the browser for its windows on every request of the startup.
    if (this.meshClients.size === 0) return undefined;
    // A segment fetch may come from a dedicated worker: route it to a window client with a mesh.
    const all = await this.clients.matchAll({ type: 'window' });
    return all.find((c) => fresh(c.id));
  }

  /** Asks the page for a segment; resolves a miss on timeout, never rejects. */
  async ask(client: Client, msg: Omit<SegmentGet, 'type' | 'reqId'>, timeoutMs: number, signal?: AbortSignal): Promise<PageAnswer> {
    const reqId = this.nextReqId++;
    const get: SegmentGet = { type: 'rc-get', reqId, ...msg };
    const r = await requestOverPort({
      channel: new MessageChannel(),
      reqId,
      post: (port) => client.postMessage(get, [port as MessagePort]),
      parse: parseSegmentReply,
      timeoutMs,
      ...(signal ? { signal } : {}),
      timers: { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>) },
    });
    if (!r.ok) return { hit: false, reason: r.reason === 'timeout' ? 'page timeout' : r.reason };
    return r.value.type === 'rc-hit' ? { hit: true, bytes: r.value.bytes } : { hit: false, reason: r.value.reason };
  }

  tell(client: Client, msg: PlaylistUpdate | SegmentFetched): void {
    try {
      client.postMessage(msg, msg.type === 'rc-fetched' ? [msg.bytes] : []);
    } catch {
      // The page went away; nothing to do.
    }
  }
}
