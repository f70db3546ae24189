import { Peer, type DataConnection } from 'peerjs';
import { isRecord, isSafeId } from '../protocol/guards.js';
import { LIMITS } from '../protocol/limits.js';
import type { RelaycastConfig } from './config.js';
import type { Channel, PeerLink } from './peer-link.js';

export interface MeshHost {
  /** The link for a new connection of `swarm` (`outgoing`: this page dialed it), or undefined to refuse it. */
  attach(remoteId: string, swarm: string, ch: Channel, outgoing: boolean): PeerLink | undefined;
  onId(id: string | undefined): void;
  onError(message: string): void;
}

type MeshConfig = Pick<RelaycastConfig, 'signalUrl' | 'iceServers' | 'relayOnly' | 'connectTimeoutMs'>;

const LOW_WATER_BYTES = 256 * 1024;
const RESTART_DELAY_MS = 3000;
const MAX_RESTART_DELAY_MS = 20_000;

function newPeerId(): string {
  return crypto.randomUUID();
}

/** PeerJS options for our own signaling server; never the PeerJS cloud or public STUN defaults. */
export function peerOptions(cfg: MeshConfig, pageUrl: string): ConstructorParameters<typeof Peer>[1] {
  const u = new URL(cfg.signalUrl, pageUrl);
  const secure = u.protocol === 'https:';
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 443 : 80,
    path: u.pathname,
    secure,
    key: 'peerjs',
    debug: 0,
    config: { iceServers: [...cfg.iceServers], ...(cfg.relayOnly ? { iceTransportPolicy: 'relay' as const } : {}) },
  };
}

/** Resolves when the channel's send buffer is low again (or it closed). */
function drained(dc: RTCDataChannel): Promise<void> {
  return new Promise((resolve) => {
    if (dc.bufferedAmount <= LOW_WATER_BYTES || dc.readyState !== 'open') return resolve();
    const done = (): void => {
      clearInterval(poll);
      dc.removeEventListener('bufferedamountlow', done);
      dc.removeEventListener('close', done);
      resolve();
    };
    // Polling as well: 'bufferedamountlow' is not fired when the threshold was crossed before we listened.
    const poll = setInterval(() => {
      if (dc.bufferedAmount <= LOW_WATER_BYTES || dc.readyState !== 'open') done();
    }, 50);
    dc.addEventListener('bufferedamountlow', done);
    dc.addEventListener('close', done);
  });
}

/** One PeerJS peer for the page; connections carry one swarm each (named in the connect metadata and the hello). */
export class Mesh {
  private peer: Peer | undefined;
  private destroyed = false;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  /** Outgoing connections not open yet, so a tracker refresh does not dial the same peer twice. */
  private readonly dialing = new Set<string>();
  private opened = false;
  private retryDelayMs = RESTART_DELAY_MS;

  constructor(
    private readonly cfg: MeshConfig,
    private readonly host: MeshHost,
    private readonly pageUrl: string,
  ) {}

  /**
   * Our id while the Peer lives: it stays valid through a signaling outage, since
   * open data channels keep working without the server (only new connections wait).
   */
  get id(): string | undefined {
    const p = this.peer;
    return p && !p.destroyed && this.opened ? p.id : undefined;
  }

  /** Signaling socket is up (new connections possible). */
  get signalingOpen(): boolean {
    return this.peer?.open === true;
  }

  start(): void {
    if (this.destroyed) return;
    const peer = new Peer(newPeerId(), peerOptions(this.cfg, this.pageUrl));
    this.peer = peer;
    this.opened = false;
    peer.on('open', (id) => {
      this.opened = true;
      this.retryDelayMs = RESTART_DELAY_MS;
      this.host.onId(id);
    });
    peer.on('connection', (conn) => {
      const meta: unknown = conn.metadata;
      const swarm = isRecord(meta) ? meta['swarm'] : undefined;
      if (!isSafeId(swarm, LIMITS.swarmIdChars)) return conn.close();
      this.wire(conn, swarm, false);
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

  connect(remoteId: string, swarm: string): void {
    const peer = this.peer;
    const key = `${remoteId}\n${swarm}`;
    if (!peer?.open || this.dialing.has(key)) return;
    const conn = peer.connect(remoteId, { serialization: 'raw', reliable: true, metadata: { swarm } });
    if (!conn) return;
    this.dialing.add(key);
    // connect() can fail silently (no error, no open): wire() closes it after connectTimeoutMs.
    this.wire(conn, swarm, true, () => this.dialing.delete(key));
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

  destroy(): void {
    this.destroyed = true;
    clearTimeout(this.restartTimer);
    this.peer?.destroy();
    this.peer = undefined;
  }

  /**
   * Signaling lost or failing. A Peer that never opened (or PeerJS destroyed) is
   * replaced; one that opened reconnects with its id and keeps its data channels,
   * retrying with backoff while the server is down.
   */
  private recover(peer: Peer): void {
    if (this.peer !== peer) return;
    this.scheduleRestart(() => {
      if (this.peer !== peer) return;
      if (peer.destroyed || !this.opened) this.replace(peer);
      else if (peer.disconnected) {
        try {
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
    this.host.onId(undefined);
    this.start();
  }

  private scheduleRestart(fn: () => void): void {
    if (this.destroyed || this.restartTimer !== undefined) return;
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(MAX_RESTART_DELAY_MS, this.retryDelayMs * 1.5);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.destroyed) fn();
    }, delay);
  }

  private wire(conn: DataConnection, swarm: string, outgoing: boolean, settled: () => void = () => undefined): void {
    let link: PeerLink | undefined;
    const timer = setTimeout(() => {
      settled();
      if (!link) conn.close();
    }, this.cfg.connectTimeoutMs);
    conn.on('open', () => {
      clearTimeout(timer);
      settled();
      const dc = conn.dataChannel;
      dc.binaryType = 'arraybuffer';
      dc.bufferedAmountLowThreshold = LOW_WATER_BYTES;
      const ch: Channel = {
        send: (d) => {
          conn.send(d);
        },
        bufferedAmount: () => dc.bufferedAmount,
        drained: () => drained(dc),
        close: () => conn.close(),
      };
      link = this.host.attach(conn.peer, swarm, ch, outgoing);
      if (!link) return conn.close();
      link.start();
    });
    conn.on('data', (d) => link?.receive(d));
    conn.on('close', () => {
      clearTimeout(timer);
      settled();
      link?.close('closed');
    });
    conn.on('error', (e) => {
      clearTimeout(timer);
      settled();
      link?.close(`error: ${String(e.type)}`);
      conn.close();
    });
  }
}
