import type { PieceCopy } from '../storage/piece-copy.js';
import type { PeerLink } from '../transport/peer-link.js';

/** A segment this page is assembling from pieces. */
export interface Download {
  readonly copy: PieceCopy;
  /** Requests in flight, by piece: the links asked (a second one only near the deadline). */
  readonly asked: Map<number, Map<PeerLink, AbortController>>;
  /** When each piece in `asked` is expected from the peer first asked for it (clock ms): its rate, its queue, its round trip. */
  readonly expectedAtMs: Map<number, number>;
  /** A player waits for it until this time (clock ms). */
  urgentUntil: number | undefined;
  /** Hops from the origin: one more than the nearest peer that sent a piece. */
  hop: number;
  /**
   * Links asked for the hash list, while those requests are out: until the list is here, one
   * request at a time on each link asks for it, so some list always comes with the pieces.
   */
  readonly listAsked: Set<PeerLink>;
  /** Peers that sent verified pieces (a share from several peers shows in `stats`). */
  readonly senders: Set<string>;
  /** Bytes of it from the origin: a head's stripes and the pieces filled at the deadline. */
  originBytes: number;
  /** Pieces no peer delivered in time were filled from the origin at the player's deadline. */
  filled: boolean;
  /** The whole-segment check has begun. */
  completing: boolean;
}
