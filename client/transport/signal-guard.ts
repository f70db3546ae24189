import { isRecord, isSafeId } from '../../protocol/guards.js';
import { LIMITS } from '../../protocol/limits.js';

/**
 * What reaches PeerJS from the signaling server, filtered first. PeerJS builds an
 * RTCPeerConnection for any OFFER, with the serializer its `serialization` names (looked up on
 * a plain object: "constructor" put a non-connection object into its list), and keeps
 * ANSWER/CANDIDATE messages for connection ids it does not know forever, to be claimed later.
 * A forged flood aimed at one viewer would cost it memory and handshakes. So only offers of
 * the kind relaycast makes are let through, not from banned peers and not while too many are
 * already opening, and answers and candidates only for connections PeerJS has.
 */

/** Incoming connections still opening, at most; more offers are dropped. */
export const MAX_PENDING_INCOMING = 8;

export interface SignalState {
  banned(peerId: string): boolean;
  /** PeerJS has a connection `connectionId` with `peerId` (ours or one it accepted). */
  hasConnection(peerId: string, connectionId: string): boolean;
  /** Incoming connections accepted and not open yet. */
  pendingIncoming(): number;
}

/** True: hand the message to PeerJS. */
export function admitSignal(m: unknown, s: SignalState): boolean {
  if (!isRecord(m)) return false;
  const type = m['type'];
  if (type !== 'OFFER' && type !== 'ANSWER' && type !== 'CANDIDATE') return true;
  const src = m['src'];
  const payload = m['payload'];
  if (!isSafeId(src, LIMITS.peerIdChars) || !isRecord(payload)) return false;
  const connectionId = payload['connectionId'];
  if (!isSafeId(connectionId, 128)) return false;
  if (type !== 'OFFER') return s.hasConnection(src, connectionId);
  const metadata = payload['metadata'];
  return (
    payload['type'] === 'data' &&
    payload['serialization'] === 'raw' &&
    isRecord(metadata) &&
    metadata['relaycastMux'] === 1 &&
    !s.hasConnection(src, connectionId) &&
    !s.banned(src) &&
    s.pendingIncoming() < MAX_PENDING_INCOMING
  );
}

/** The part of a PeerJS Peer the guard replaces (a private method: PeerJS 1.5, `Peer._handleMessage`). */
interface GuardablePeer {
  _handleMessage?: (m: unknown) => void;
  getConnection(peerId: string, connectionId: string): unknown;
}

/** Puts `admitSignal` in front of the Peer's handling of server messages. */
export function guardSignaling(peer: unknown, s: Omit<SignalState, 'hasConnection'>): void {
  const p = peer as GuardablePeer;
  const handle = p._handleMessage;
  if (typeof handle !== 'function') return;
  const state: SignalState = { ...s, hasConnection: (id, cid) => p.getConnection(id, cid) != null };
  p._handleMessage = (m: unknown): void => {
    if (admitSignal(m, state)) handle.call(p, m);
  };
}
