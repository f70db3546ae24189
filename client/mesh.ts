import { Peer, type DataConnection } from 'peerjs';
import { isRecord, isSafeId } from '../protocol/guards.js';
import { LIMITS } from '../protocol/limits.js';
import type { RelaycastConfig } from './config.js';
import type { Channel, PeerLink } from './peer-link.js';

export interface MeshHost {
  /** The link for a new connection of `swarm`, or undefined to refuse it. */
  attach(remoteId: string, swarm: string, ch: Channel): PeerLink | undefined;
  onId(id: string | undefined): void;
  onError(message: string): void;
}

type MeshConfig = Pick<RelaycastConfig, 'signalUrl' | 'iceServers' | 'connectTimeoutMs'>;

const LOW_WATER_BYTES = 256 * 1024;
const RESTART_DELAY_MS = 5000;

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
    config: { iceServers: [...cfg.iceServers] },
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

  constructor(
    private readonly cfg: MeshConfig,
    private readonly host: MeshHost,
    private readonly pageUrl: string,
  ) {}

  get id(): string | undefined {
    return this.peer?.open ? this.peer.id : undefined;
  }

  start(): void {
    if (this.destroyed) return;
    const peer = new Peer(newPeerId(), peerOptions(this.cfg, this.pageUrl));
    this.peer = peer;
    peer.on('open', (id) => this.host.onId(id));
    peer.on('connection', (conn) => {
      const meta: unknown = conn.metadata;
      const swarm = isRecord(meta) ? meta['swarm'] : undefined;
      if (!isSafeId(swarm, LIMITS.swarmIdChars)) return conn.close();
      this.wire(conn, swarm);
    });
    peer.on('disconnected', () => {
      // Lost the signaling socket: existing data channels keep working; get back on the server.
      this.host.onId(undefined);
      this.scheduleRestart(() => {
        if (this.peer === peer && !peer.destroyed) peer.reconnect();
      });
    });
    peer.on('error', (e) => {
      const type = String(e.type);
      if (type === 'peer-unavailable') return; // A peer the tracker listed is gone: nothing to do.
      this.host.onError(`signaling: ${type}`);
      if (type === 'unavailable-id' || type === 'network' || type === 'server-error' || type === 'socket-error' || type === 'socket-closed') {
        // Start over with a new id (an old one may still be held by the server after a reconnect).
        this.scheduleRestart(() => {
          if (this.peer === peer) {
            peer.destroy();
            this.peer = undefined;
            this.start();
          }
        });
      }
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
    this.wire(conn, swarm, () => this.dialing.delete(key));
  }

  destroy(): void {
    this.destroyed = true;
    clearTimeout(this.restartTimer);
    this.peer?.destroy();
    this.peer = undefined;
  }

  private scheduleRestart(fn: () => void): void {
    if (this.destroyed || this.restartTimer !== undefined) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.destroyed) fn();
    }, RESTART_DELAY_MS);
  }

  private wire(conn: DataConnection, swarm: string, settled: () => void = () => undefined): void {
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
      link = this.host.attach(conn.peer, swarm, ch);
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
