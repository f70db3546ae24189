/**
 * Pieces a peer announced it is pushing (`push`, its frame follows at once), wanted or not, and
 * the ids this page gives its own pushes. Bounded: a peer with more pushes announced and not
 * delivered than MAX_INCOMING_PUSHES breaks the protocol.
 */
import { pieceSpan } from '../../protocol/pieces.js';
import { PUSH_ID_BASE } from '../../protocol/peer.js';

const MAX_INCOMING_PUSHES = 4;

export interface IncomingPush {
  readonly id: string;
  readonly piece: number;
  readonly wanted: boolean;
}

export type PushArrival =
  | { readonly ok: true; readonly push: IncomingPush }
  | { readonly ok: false; readonly reason: string };

export class PushInbox {
  private readonly incoming = new Map<number, IncomingPush>();
  private nextId = PUSH_ID_BASE;

  constructor(private readonly pieceBytes: number) {}

  /** The id of this page's next push to the peer. */
  nextPushId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffff_ffff ? PUSH_ID_BASE : this.nextId + 1;
    return id;
  }

  /** The peer announced push `reqId`: false if it breaks the bound or reuses an id. */
  expect(reqId: number, push: IncomingPush): boolean {
    if (this.incoming.size >= MAX_INCOMING_PUSHES || this.incoming.has(reqId)) return false;
    this.incoming.set(reqId, push);
    return true;
  }

  /** The frame of push `reqId` arrived: the push it answers, if it is that piece. */
  arrive(reqId: number, totalBytes: number, offset: number, length: number): PushArrival {
    const push = this.incoming.get(reqId);
    if (!push) return { ok: false, reason: 'frame of no push' };
    this.incoming.delete(reqId);
    const span = pieceSpan(push.piece, totalBytes, this.pieceBytes);
    if (offset !== span.start || length !== span.end - span.start) return { ok: false, reason: 'not the piece pushed' };
    return { ok: true, push };
  }

  /** The link closed: the wanted pushes that will not arrive. */
  abandon(): IncomingPush[] {
    const wanted = [...this.incoming.values()].filter((p) => p.wanted);
    this.incoming.clear();
    return wanted;
  }
}
