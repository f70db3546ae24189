/**
 * Messages held for ids whose socket is reconnecting (signaling.ts), within caps per receiver,
 * per sending address and in all: over any cap a message is dropped at once, so a sender cannot
 * make the server hold more than these bounds whatever it sends.
 */
import type { Queued, Session, SignalingLimits } from './signaling-types.js';

type QueueLimits = Pick<SignalingLimits, 'queueMessagesPerPeer' | 'queueBytesPerPeer' | 'queueBytesPerAddress' | 'queueBytesTotal'>;

export class SignalQueues {
  private bytes = 0;
  private messages = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly L: QueueLimits) {}

  get queuedBytes(): number {
    return this.bytes;
  }

  get queuedMessages(): number {
    return this.messages;
  }

  /** Holds `q` for `s`; false (dropped) over any cap. */
  add(s: Session, q: Queued): boolean {
    const fromAddress = this.byAddress.get(q.srcAddress) ?? 0;
    if (
      s.queue.length >= this.L.queueMessagesPerPeer ||
      s.queueBytes + q.bytes > this.L.queueBytesPerPeer ||
      fromAddress + q.bytes > this.L.queueBytesPerAddress ||
      this.bytes + q.bytes > this.L.queueBytesTotal
    ) {
      return false;
    }
    s.queue.push(q);
    s.queueBytes += q.bytes;
    this.bytes += q.bytes;
    this.messages++;
    this.byAddress.set(q.srcAddress, fromAddress + q.bytes);
    return true;
  }

  /** Everything held for `s`, oldest first, now no longer counted. */
  takeAll(s: Session): Queued[] {
    const all = s.queue.splice(0);
    for (const q of all) this.uncount(s, q);
    return all;
  }

  /** What has waited `maxAgeMs` or longer for `s`, oldest first, now no longer counted. */
  takeExpired(s: Session, nowMs: number, maxAgeMs: number): Queued[] {
    const out: Queued[] = [];
    while (s.queue.length > 0 && nowMs - (s.queue[0]?.atMs ?? nowMs) >= maxAgeMs) {
      const q = s.queue.shift();
      if (q === undefined) break;
      this.uncount(s, q);
      out.push(q);
    }
    return out;
  }

  private uncount(s: Session, q: Queued): void {
    this.bytes -= q.bytes;
    this.messages--;
    s.queueBytes -= q.bytes;
    const a = (this.byAddress.get(q.srcAddress) ?? q.bytes) - q.bytes;
    if (a <= 0) this.byAddress.delete(q.srcAddress);
    else this.byAddress.set(q.srcAddress, a);
  }
}
