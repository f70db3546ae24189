import type { Channel } from '../../client/transport/peer-link.js';

export type FakeEnd = Channel & { onData?: (d: unknown) => void; closed: boolean };

/**
 * Two in-memory channel ends; messages are delivered asynchronously and in order, like a data
 * channel. With `bytesPerSec` for a direction, that end's messages leave one after another at
 * that rate (an uplink): `bufferedAmount` counts what has not left yet.
 */
export function channelPair(rate: { a?: number; b?: number } = {}): { a: FakeEnd; b: FakeEnd } {
  type End = FakeEnd & { peer?: End; queued: number; busyUntil: number; waiters: { below: number; wake: () => void }[] };
  const mk = (bytesPerSec: number | undefined): End => {
    const end: End = {
      closed: false,
      queued: 0,
      busyUntil: 0,
      waiters: [],
      send(d) {
        if (end.closed) throw new Error('closed');
        const size = typeof d === 'string' ? d.length : d.byteLength;
        end.queued += size;
        const deliver = (): void => {
          end.queued -= size;
          for (const w of end.waiters.filter((x) => end.queued <= x.below)) {
            end.waiters.splice(end.waiters.indexOf(w), 1);
            w.wake();
          }
          if (!end.peer?.closed) end.peer?.onData?.(d);
        };
        if (bytesPerSec === undefined) return void setImmediate(deliver);
        const now = Date.now();
        end.busyUntil = Math.max(now, end.busyUntil) + (size * 1000) / bytesPerSec;
        setTimeout(deliver, end.busyUntil - now);
      },
      bufferedAmount: () => end.queued,
      drained: (below = 256 * 1024) =>
        new Promise<void>((wake) => {
          if (end.queued <= below || end.closed) return setImmediate(wake);
          end.waiters.push({ below, wake });
        }),
      close() {
        end.closed = true;
        for (const w of end.waiters.splice(0)) w.wake();
        if (end.peer) end.peer.closed = true;
      },
    };
    return end;
  };
  const a = mk(rate.a);
  const b = mk(rate.b);
  a.peer = b;
  b.peer = a;
  return { a, b };
}
