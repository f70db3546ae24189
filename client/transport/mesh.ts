import { Peer, type DataConnection } from 'peerjs';
import { isRecord } from '../../protocol/guards.js';
import { DEFAULT_SIGNAL_URL, type RelaycastConfig } from '../config.js';
import { IceConfig, type FetchFn } from './ice-config.js';
import { linkRoute, noRoutes, type LinkRoute, type RouteCounts } from './link-route.js';
import type { ChannelCounts } from './channel-counts.js';
import { MuxSession, type SubChannel } from './mux-session.js';
import { guardSignaling } from './signal-guard.js';
import { pointPeerAt, signalEndpoint, urlList } from './signal-endpoint.js';
import type { Channel, PeerLink } from './peer-link.js';

export interface MeshHost {
  /** The link for a new connection of `swarm` (`outgoing`: this page dialed it), or undefined to refuse it. */
  attach(remoteId: string, swarm: string, ch: Channel, outgoing: boolean): PeerLink | undefined;
  /** A peer this page banned: its offers are dropped before PeerJS builds a connection for them. */
  isBanned(remoteId: string): boolean;
  /** Signaling opened with `id` and the session's `token`, or closed for good (undefined). */
  onId(id: string | undefined, token: string | undefined): void;
  onError(message: string): void;
  /** Where every data channel's messages are counted by kind (the page's stats). */
  readonly counts?: ChannelCounts;
}

type MeshConfig = Pick<RelaycastConfig, 'signalUrl' | 'iceServers' | 'iceUrl' | 'relayOnly' | 'connectTimeoutMs'>;

const RESTART_DELAY_MS = 3000;
const MAX_RESTART_DELAY_MS = 20_000;
/** Before trying another signaling server of the list that was not tried since the last failure round. */
const SWITCH_DELAY_MS = 1000;
const PEERJS_KEY = 'peerjs';

function newPeerId(): string {
  return crypto.randomUUID();
}

/** The secret of one signaling session: PeerJS sends it when it opens its WebSocket, the tracker client with each announce. */
function newToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** When the route of a new connection is read (ICE may still switch pairs just after open). */
const ROUTE_CHECKS_MS = [1000, 6000] as const;

/**
 * PeerJS options for our own signaling server; never the PeerJS cloud or public STUN defaults.
 * `iceServers`: the configured ones and the adapter's (client/transport/ice-config.ts).
 */
export function peerOptions(cfg: MeshConfig, signalUrl: string, pageUrl: string, iceServers: readonly RTCIceServer[] = cfg.iceServers): ConstructorParameters<typeof Peer>[1] {
  return {
    ...signalEndpoint(signalUrl, pageUrl),
    key: PEERJS_KEY,
    debug: 0,
    config: { iceServers: [...iceServers], ...(cfg.relayOnly ? { iceTransportPolicy: 'relay' as const } : {}) },
  };
}

/** Connect metadata of a connection that carries swarms on channels of its own (client/mux-session.ts). */
const MUX_METADATA = { relaycastMux: 1 } as const;

/** One PeerJS connection to a remote page: its channels once open, the swarms to open then. */
interface Conn {
  readonly conn: DataConnection;
  readonly outgoing: boolean;
  session: MuxSession | undefined;
  readonly queued: Set<string>;
  /** The route ICE chose, once read after open. */
  route: LinkRoute | undefined;
}

/**
 * One PeerJS peer for the page, and one connection per remote page for all swarms: each swarm
 * is a data channel of its own on it (client/transport/mux-session.ts). A connection without
 * that metadata is closed.
 */
export class Mesh {
  private peer: Peer | undefined;
  private destroyed = false;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  /** Swarm channels asked for and not answered yet, so a tracker refresh does not ask twice. */
  private readonly dialing = new Set<string>();
  /** Connections by remote peer id (two at once when both pages dialed each other). */
  private readonly conns = new Map<string, Conn[]>();
  private opened = false;
  private retryDelayMs = RESTART_DELAY_MS;
  private sessionToken: string | undefined;
  private readonly ice: IceConfig;
  /** Signaling servers (nodes of one cluster) in the order to try them, and the one in use. */
  private readonly signalUrls: readonly string[];
  private signalIndex = 0;
  /** Servers that failed since the last open: another untried one is tried soon, then back off. */
  private failedInRound = 0;

  constructor(
    private readonly cfg: MeshConfig,
    private readonly host: MeshHost,
    private readonly pageUrl: string,
    fetchFn: FetchFn = (url, init) => fetch(url, init),
  ) {
    this.signalUrls = urlList(cfg.signalUrl, DEFAULT_SIGNAL_URL);
    const iceUrl = cfg.iceUrl === null ? null : new URL(cfg.iceUrl, pageUrl).href;
    this.ice = new IceConfig(cfg.iceServers, iceUrl, fetchFn, () => {
      // New credentials for connections made from now on (PeerJS reads its config at each one).
      const config = this.peer?.options.config;
      if (config) config.iceServers = this.ice.servers;
    });
  }

  /** Open connections by the route ICE chose (not counted until it is known). */
  routes(): RouteCounts {
    const out = noRoutes();
    for (const list of this.conns.values()) for (const c of list) if (c.session && !c.session.isClosed && c.route) out[c.route]++;
    return out;
  }

  /**
   * Our id while the Peer lives: it stays valid through a signaling outage, since
   * open data channels keep working without the server (only new connections wait).
   */
  get id(): string | undefined {
    const p = this.peer;
    return p && !p.destroyed && this.opened ? p.id : undefined;
  }

  /** The token our signaling session opened with, while the Peer lives (the tracker wants it with each announce). */
  get token(): string | undefined {
    return this.id === undefined ? undefined : this.sessionToken;
  }

  /** The position in `signalUrl` of the server in use (the page keeps its tracker on the same node). */
  get signalNode(): number {
    return this.signalIndex;
  }

  /** Signaling socket is up (new connections possible). */
  get signalingOpen(): boolean {
    return this.peer?.open === true;
  }

  /** Starts signaling once the adapter's ICE servers are known (or could not be fetched). */
  start(): void {
    if (this.destroyed) return;
    void this.ice.ready().then(() => {
      if (!this.destroyed && this.peer === undefined) this.startPeer();
    });
  }

  private startPeer(): void {
    const id = newPeerId();
    const token = newToken();
    this.sessionToken = token;
    const peer = new Peer(id, { ...peerOptions(this.cfg, this.signalUrls[this.signalIndex] ?? '', this.pageUrl, this.ice.servers), token });
    guardSignaling(peer, { banned: (remote) => this.host.isBanned(remote), pendingIncoming: () => this.pendingIncoming() });
    this.peer = peer;
    this.opened = false;
    peer.on('open', (id) => {
      this.opened = true;
      this.retryDelayMs = RESTART_DELAY_MS;
      this.failedInRound = 0;
      this.host.onId(id, token);
    });
    peer.on('connection', (conn) => {
      const meta: unknown = conn.metadata;
      if (isRecord(meta) && meta['relaycastMux'] === MUX_METADATA.relaycastMux) return this.wireMux(conn, false);
      conn.close();
    });
    peer.on('disconnected', () => this.recover(peer));
    peer.on('error', (e) => {
      const type = String(e.type);
      if (type === 'peer-unavailable') return; // A peer the tracker listed is gone: nothing to do.
      this.host.onError(`signaling: ${type}`);
      if (type === 'unavailable-id') {
        // The server still holds our old id after a reconnect: start over with a new one.
        this.scheduleRestart(() => this.replace(peer));
        return;
      }
      this.recover(peer);
    });
  }

  /** Link `swarm` with `remoteId`: a channel on the connection to it, dialing one if there is none. */
  connect(remoteId: string, swarm: string): void {
    const peer = this.peer;
    const key = `${remoteId}\n${swarm}`;
    if (!peer?.open || this.dialing.has(key)) return;
    const list = this.conns.get(remoteId) ?? [];
    if (list.some((c) => c.queued.has(swarm) || c.session?.has(swarm))) return;
    const open = list.find((c) => c.session && !c.session.isClosed);
    if (open?.session) {
      if (open.session.open(swarm)) this.dialing.add(key);
      return;
    }
    const connecting = list.find((c) => !c.session);
    if (connecting) {
      connecting.queued.add(swarm);
      this.dialing.add(key);
      return;
    }
    const conn = peer.connect(remoteId, { serialization: 'raw', reliable: true, metadata: MUX_METADATA });
    if (!conn) return;
    this.dialing.add(key);
    this.wireMux(conn, true, swarm);
  }

  /** A dial to `remoteId` in `swarm` is in progress. */
  isDialing(remoteId: string, swarm: string): boolean {
    return this.dialing.has(`${remoteId}\n${swarm}`);
  }

  /** Dials in progress in `swarm`. */
  dialingCount(swarm: string): number {
    let n = 0;
    for (const key of this.dialing) if (key.endsWith(`\n${swarm}`)) n++;
    return n;
  }

  /** Connections other pages dialed that are not open yet (client/transport/signal-guard.ts caps them). */
  private pendingIncoming(): number {
    let n = 0;
    for (const list of this.conns.values()) for (const c of list) if (!c.outgoing && !c.session) n++;
    return n;
  }

  destroy(): void {
    this.destroyed = true;
    this.ice.stop();
    clearTimeout(this.restartTimer);
    this.peer?.destroy();
    this.peer = undefined;
  }

  /**
   * Signaling lost or failing. A Peer that never opened (or PeerJS destroyed) is
   * replaced; one that opened reconnects with its id and keeps its data channels,
   * retrying with backoff while the server is down. With several servers (`signalUrl` as a
   * list: the nodes of a cluster), each retry goes to the next one, soon while one of them was
   * not tried since the last failure round; a page whose node died is back on another within
   * seconds, with the same id and its connections.
   */
  private recover(peer: Peer): void {
    if (this.peer !== peer) return;
    this.scheduleRestart(() => {
      if (this.peer !== peer) return;
      if (peer.destroyed || !this.opened) this.replace(peer);
      else if (peer.disconnected) {
        try {
          pointPeerAt(peer, signalEndpoint(this.signalUrls[this.signalIndex] ?? '', this.pageUrl), PEERJS_KEY);
          peer.reconnect();
        } catch {
          this.replace(peer);
        }
      }
    });
  }

  private replace(peer: Peer): void {
    if (this.peer !== peer) return;
    peer.destroy();
    this.peer = undefined;
    this.host.onId(undefined, undefined);
    this.start();
  }

  /** Runs `fn` after the retry delay, on the next signaling server when there are several. */
  private scheduleRestart(fn: () => void): void {
    if (this.destroyed || this.restartTimer !== undefined) return;
    let delay: number;
    this.failedInRound++;
    if (this.failedInRound < this.signalUrls.length) delay = SWITCH_DELAY_MS;
    else {
      delay = this.retryDelayMs;
      this.retryDelayMs = Math.min(MAX_RESTART_DELAY_MS, this.retryDelayMs * 1.5);
      this.failedInRound = 0;
    }
    this.signalIndex = (this.signalIndex + 1) % this.signalUrls.length;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.destroyed) fn();
    }, delay);
  }

  /** A connection that carries swarms on channels of its own; `first`: the swarm it was dialed for. */
  private wireMux(conn: DataConnection, outgoing: boolean, first?: string): void {
    const c: Conn = { conn, outgoing, session: undefined, queued: new Set(first === undefined ? [] : [first]), route: undefined };
    const remoteId = conn.peer;
    this.conns.set(remoteId, [...(this.conns.get(remoteId) ?? []), c]);
    const settle = (): void => {
      for (const swarm of c.queued) this.dialing.delete(`${remoteId}\n${swarm}`);
      c.queued.clear();
    };
    const forget = (): void => {
      clearTimeout(timer);
      settle();
      const rest = (this.conns.get(remoteId) ?? []).filter((x) => x !== c);
      if (rest.length > 0) this.conns.set(remoteId, rest);
      else this.conns.delete(remoteId);
    };
    // connect() can fail silently (no error, no open); an accepted connection that is never used is closed too.
    let timer = setTimeout(() => {
      if (!c.session || c.session.size === 0) conn.close();
    }, this.cfg.connectTimeoutMs);
    conn.on('open', () => {
      clearTimeout(timer);
      const session = new MuxSession(
        this.peer?.id ?? '',
        remoteId,
        outgoing,
        (s) => conn.send(s),
        (id) => conn.peerConnection.createDataChannel(`rc${id}`, { negotiated: true, id }) as unknown as SubChannel,
        {
          attach: (remote, swarm, ch, out) => this.host.attach(remote, swarm, ch, out),
          settled: (remote, swarm) => this.dialing.delete(`${remote}\n${swarm}`),
          onIdle: () => conn.close(),
          ...(this.host.counts ? { counts: this.host.counts } : {}),
        },
        this.cfg.connectTimeoutMs,
      );
      c.session = session;
      for (const ms of ROUTE_CHECKS_MS) {
        setTimeout(() => {
          if (!session.isClosed) void linkRoute(conn.peerConnection).then((r) => (c.route = r ?? c.route));
        }, ms);
      }
      const queued = [...c.queued];
      c.queued.clear();
      for (const swarm of queued) if (!session.open(swarm)) this.dialing.delete(`${remoteId}\n${swarm}`);
      if (!outgoing) {
        timer = setTimeout(() => {
          if (session.size === 0) conn.close();
        }, this.cfg.connectTimeoutMs);
      }
    });
    conn.on('data', (d) => c.session?.onControl(d));
    conn.on('close', () => {
      forget();
      c.session?.close();
    });
    conn.on('error', () => {
      forget();
      c.session?.close();
      conn.close();
    });
  }
}
