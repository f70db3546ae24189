/// <reference lib="webworker" />
import { PortCalls, requestOverPort, type SharedPort } from '../protocol/port-request.js';
import { parseSegmentReply, type PortOffer, type SegmentFetched, type SegmentGet, type SegmentReply, type PlaylistUpdate } from '../protocol/worker.js';

/** The subset of the worker's `clients` we use, so tests can pass a fake. */
export interface ClientsLike {
  get(id: string): Promise<Client | undefined>;
  matchAll(opts: ClientQueryOptions): Promise<readonly Client[]>;
}

/** A page the worker talks to: a Client, or the page's own port (what is used of either). */
export interface PageTarget {
  readonly id: string;
  postMessage(msg: unknown, transfer: Transferable[]): void;
}

export type PageAnswer = { readonly hit: true; readonly bytes: ArrayBuffer } | { readonly hit: false; readonly reason: string };

/** The channel a page's port comes from (a fake in tests). */
export type NewChannel = () => { readonly port1: SharedPort; readonly port2: unknown };

interface PagePort {
  /** Sent with the offer; the page names it in its hellos once it listens on the port. */
  readonly n: number;
  readonly port: SharedPort;
  readonly calls: PortCalls<SegmentReply>;
  confirmed: boolean;
}

/** Pages a worker keeps a port for (one per tab with a mesh). */
const MAX_PORTS = 64;

const realTimers = { setTimeout: (f: () => void, ms: number) => setTimeout(f, ms), clearTimeout: (t: unknown) => clearTimeout(t as ReturnType<typeof setTimeout>) };

/**
 * The worker's side of the worker<->page bridge. Pages running a mesh say so with `rc-mesh`
 * every few seconds; a worker stopped while idle loses this map and falls back to the origin
 * until the next hello.
 *
 * At a page's first hello the worker offers it a port of its own (`rc-port`); once the page's
 * hellos name that port, segment requests, playlists and origin copies go over it. Each
 * `Client.postMessage` and `clients.get` is a trip through the browser process, and a
 * MessageChannel per request one more: measured with `npm run bench:cpu`, the port saves that
 * on every segment the player asks for. A page that never names the port (an older client)
 * is talked to as before.
 */
export class PageLink {
  private readonly meshClients = new Map<string, number>();
  private readonly ports = new Map<string, PagePort>();
  private nextReqId = 1;

  constructor(
    private readonly clients: ClientsLike,
    private readonly helloTtlMs: number,
    private readonly now: () => number = () => Date.now(),
    /** null: no ports (every message through the browser, as for an older page). */
    private readonly newChannel: NewChannel | null = () => new MessageChannel(),
    private readonly random: () => number = Math.random,
  ) {}

  /** A page says it runs a mesh; `port`: the port it listens on, as the worker numbered it. */
  hello(client: PageTarget, port?: number): void {
    this.meshClients.set(client.id, this.now());
    const p = this.ports.get(client.id);
    if (p) {
      if (port === p.n) p.confirmed = true;
      return;
    }
    this.offerPort(client);
  }

  /** The page that should handle a request: the requesting page if it runs a mesh, else any window that does. */
  async pick(clientId: string | undefined): Promise<PageTarget | undefined> {
    if (clientId && this.fresh(clientId)) {
      const p = this.ports.get(clientId);
      // A confirmed port needs no lookup: the page said hello on it within the TTL.
      if (p?.confirmed) return { id: clientId, postMessage: (m, t) => p.port.postMessage(m, t) };
      const c = await this.clients.get(clientId);
      if (c) return c;
    }
    // No page has said hello (a page before its mesh starts, the common case of one tab): the origin
    // answers at once, without asking the browser for its windows on every request of the startup.
    if (this.meshClients.size === 0) return undefined;
    // A segment fetch may come from a dedicated worker: route it to a window client with a mesh.
    const all = await this.clients.matchAll({ type: 'window' });
    return all.find((c) => this.fresh(c.id));
  }

  /** Asks the page for a segment; resolves a miss on timeout, never rejects. */
  async ask(page: PageTarget, msg: Omit<SegmentGet, 'type' | 'reqId'>, timeoutMs: number, signal?: AbortSignal): Promise<PageAnswer> {
    const reqId = this.nextReqId;
    this.nextReqId = this.nextReqId >= 0xffff_ffff ? 1 : this.nextReqId + 1;
    const get: SegmentGet = { type: 'rc-get', reqId, ...msg };
    const p = this.ports.get(page.id);
    const r = p?.confirmed
      ? await p.calls.request(reqId, get, [], timeoutMs, signal)
      : await requestOverPort({
          channel: new MessageChannel(),
          reqId,
          post: (port) => page.postMessage(get, [port as MessagePort]),
          parse: parseSegmentReply,
          timeoutMs,
          ...(signal ? { signal } : {}),
          timers: realTimers,
        });
    if (!r.ok) return { hit: false, reason: r.reason === 'timeout' ? 'page timeout' : r.reason };
    return r.value.type === 'rc-hit' ? { hit: true, bytes: r.value.bytes } : { hit: false, reason: r.value.reason };
  }

  tell(page: PageTarget, msg: PlaylistUpdate | SegmentFetched): void {
    const transfer = msg.type === 'rc-fetched' ? [msg.bytes] : [];
    try {
      const p = this.ports.get(page.id);
      if (p?.confirmed) p.port.postMessage(msg, transfer);
      else page.postMessage(msg, transfer);
    } catch {
      // The page went away; nothing to do.
    }
  }

  /** Pages with a port (for tests and bounds). */
  get portCount(): number {
    return this.ports.size;
  }

  private fresh(id: string): boolean {
    const t = this.meshClients.get(id);
    if (t === undefined) return false;
    if (this.now() - t <= this.helloTtlMs) return true;
    this.meshClients.delete(id);
    this.dropPort(id);
    return false;
  }

  private offerPort(client: PageTarget): void {
    if (!this.newChannel) return;
    if (this.ports.size >= MAX_PORTS) {
      // Ports of pages that stopped saying hello go first; if none did, no new port.
      for (const id of [...this.ports.keys()]) this.fresh(id);
      if (this.ports.size >= MAX_PORTS) return;
    }
    const ch = this.newChannel();
    const n = Math.floor(this.random() * 0xffff_ffff);
    const calls = new PortCalls<SegmentReply>(ch.port1, parseSegmentReply, realTimers);
    const offer: PortOffer = { type: 'rc-port', n };
    try {
      client.postMessage(offer, [ch.port2 as MessagePort]);
    } catch {
      calls.close();
      return;
    }
    this.ports.set(client.id, { n, port: ch.port1, calls, confirmed: false });
  }

  private dropPort(id: string): void {
    this.ports.get(id)?.calls.close();
    this.ports.delete(id);
  }
}
