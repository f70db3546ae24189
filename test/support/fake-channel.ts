import type { Channel } from '../../client/transport/peer-link.js';

/** Two in-memory channel ends; messages are delivered asynchronously and in order, like a data channel. */
export function channelPair(): { a: Channel & { onData?: (d: unknown) => void; closed: boolean }; b: Channel & { onData?: (d: unknown) => void; closed: boolean } } {
  type End = Channel & { onData?: (d: unknown) => void; closed: boolean; peer?: End; queued: number };
  const mk = (): End => {
    const end: End = {
      closed: false,
      queued: 0,
      send(d) {
        if (end.closed) throw new Error('closed');
        const size = typeof d === 'string' ? d.length : d.byteLength;
        end.queued += size;
        setImmediate(() => {
          end.queued -= size;
          if (!end.peer?.closed) end.peer?.onData?.(d);
        });
      },
      bufferedAmount: () => end.queued,
      drained: () => new Promise((r) => setImmediate(r)),
      close() {
        end.closed = true;
        if (end.peer) end.peer.closed = true;
      },
    };
    return end;
  };
  const a = mk();
  const b = mk();
  a.peer = b;
  b.peer = a;
  return { a, b };
}
