import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MuxSession, type SessionHost, type SubChannel } from '../../client/transport/mux-session.js';
import type { Channel, PeerLink } from '../../client/transport/peer-link.js';

/** Two ends of one fake RTCPeerConnection: negotiated channels with the same id are joined; data for an id the other end has no channel for is lost, as in the browser. */
class FakeDC implements SubChannel {
  readyState = 'connecting';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType = 'blob';
  peer: FakeDC | undefined;
  private readonly listeners = new Map<string, Set<(e?: unknown) => void>>();
  constructor(
    readonly id: number,
    private readonly lost: unknown[],
  ) {
    queueMicrotask(() => {
      if (this.readyState !== 'connecting') return;
      this.readyState = 'open';
      this.emit('open');
    });
  }
  send(data: string | ArrayBuffer): void {
    if (this.readyState !== 'open') throw new Error('InvalidStateError');
    if (this.peer) this.peer.emit('message', { data });
    else this.lost.push(data);
  }
  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.emit('close');
    this.peer?.close();
  }
  addEventListener(type: string, f: (e: { readonly data: unknown }) => void): void {
    let s = this.listeners.get(type);
    if (!s) this.listeners.set(type, (s = new Set()));
    s.add(f as (e?: unknown) => void);
  }
  removeEventListener(type: string, f: (...a: never[]) => void): void {
    this.listeners.get(type)?.delete(f as (e?: unknown) => void);
  }
  emit(type: string, e?: unknown): void {
    for (const f of [...(this.listeners.get(type) ?? [])]) f(e);
  }
}

interface Side {
  session: MuxSession;
  links: { swarm: string; outgoing: boolean; got: unknown[]; closed: boolean; ch: Channel }[];
  settled: string[];
  idle: number;
  refuse: Set<string>;
}

function pair(): { a: Side; b: Side; lost: unknown[]; tick: () => Promise<void> } {
  const lost: unknown[] = [];
  const channels: [Map<number, FakeDC>, Map<number, FakeDC>] = [new Map(), new Map()];
  const make = (side: 0 | 1) => (id: number): SubChannel => {
    const dc = new FakeDC(id, lost);
    channels[side].set(id, dc);
    const other = channels[side === 0 ? 1 : 0].get(id);
    if (other && other.readyState !== 'closed') {
      dc.peer = other;
      other.peer = dc;
    }
    return dc;
  };
  const sessions: MuxSession[] = [];
  const side = (i: 0 | 1, dialer: boolean): Side => {
    const s: Side = { session: undefined as unknown as MuxSession, links: [], settled: [], idle: 0, refuse: new Set() };
    const host: SessionHost = {
      attach: (_remote, swarm, ch, outgoing) => {
        if (s.refuse.has(swarm)) return undefined;
        const l = { swarm, outgoing, got: [] as unknown[], closed: false, ch };
        s.links.push(l);
        return {
          start: () => ch.send(`hello ${swarm} from ${i}`),
          receive: (d: unknown) => l.got.push(d),
          close: () => {
            l.closed = true;
            ch.close();
          },
        } as unknown as PeerLink;
      },
      settled: (_remote, swarm) => s.settled.push(swarm),
      onIdle: () => s.idle++,
    };
    s.session = new MuxSession(i === 0 ? 'a' : 'b', i === 0 ? 'b' : 'a', dialer, (m) => queueMicrotask(() => sessions[i === 0 ? 1 : 0]?.onControl(m)), make(i), host, 1000);
    sessions[i] = s.session;
    return s;
  };
  const a = side(0, true);
  const b = side(1, false);
  const tick = async (): Promise<void> => {
    for (let k = 0; k < 10; k++) await new Promise<void>((r) => queueMicrotask(r));
  };
  return { a, b, lost, tick };
}

test('mux: one connection carries each swarm on its own channel; nothing is sent before the other side has the channel', async () => {
  const { a, b, lost, tick } = pair();
  assert.ok(a.session.open('video'));
  assert.ok(b.session.open('audio'), 'both sides may open channels at once');
  assert.equal(a.session.open('video'), false, 'one channel per swarm');
  await tick();
  assert.deepEqual(a.links.map((l) => [l.swarm, l.outgoing]).sort(), [['audio', false], ['video', true]]);
  assert.deepEqual(b.links.map((l) => [l.swarm, l.outgoing]).sort(), [['audio', true], ['video', false]]);
  // Each side's hello reached the other's link of the same swarm, whichever order control and data came in.
  for (const [me, other] of [[a, b], [b, a]] as const) {
    for (const l of me.links) assert.deepEqual(l.got, [`hello ${l.swarm} from ${other === b ? 1 : 0}`], l.swarm);
  }
  assert.deepEqual(lost, []);
  assert.deepEqual(a.settled.sort(), ['video']);
  assert.deepEqual(b.settled.sort(), ['audio']);
  // Data keeps flowing on each swarm's channel.
  a.links.find((l) => l.swarm === 'video')!.ch.send(new ArrayBuffer(3));
  assert.equal(b.links.find((l) => l.swarm === 'video')!.got.length, 2);
});

test('mux: a refused swarm closes only its channel; the last link closed leaves the connection idle', async () => {
  const { a, b, tick } = pair();
  b.refuse.add('audio');
  a.session.open('video');
  a.session.open('audio');
  await tick();
  assert.deepEqual(a.links.map((l) => l.swarm), ['video']);
  assert.deepEqual(a.settled.sort(), ['audio', 'video'], 'the refused dial is settled too');
  assert.equal(a.session.has('audio'), false);
  assert.equal(a.session.size, 1);
  // a closes its video link: b's closes as well, and both connections are idle.
  a.links[0]!.ch.close();
  await tick();
  assert.ok(b.links[0]!.closed);
  assert.equal(a.session.size, 0);
  assert.equal(b.session.size, 0);
  assert.ok(a.idle >= 1 && b.idle >= 1);
});

test('mux: a bad control message closes the connection and every link on it', async () => {
  const { a, b, tick } = pair();
  a.session.open('video');
  await tick();
  for (const bad of ['{"mux":"open","swarm":"x","ch":16}', 'hello', '{"mux":"open","swarm":"a b","ch":17}', '{"mux":"ok","ch":3}', 'x'.repeat(5000)]) {
    const { a: fresh } = pair(); // the dialer: ch 16 is its own parity
    fresh.session.onControl(bad);
    assert.ok(fresh.session.isClosed, bad.slice(0, 40));
  }
  // b is the acceptor: an "open" with b's own (odd) parity from a breaks the rule.
  b.session.onControl('{"mux":"open","swarm":"s","ch":17}');
  assert.ok(b.session.isClosed);
  assert.ok(b.links[0]!.closed);
});

test('mux: an open never answered is given up after the timeout', async () => {
  const lost: unknown[] = [];
  const settled: string[] = [];
  const timers: (() => void)[] = [];
  const s = new MuxSession(
    'a',
    'b',
    true,
    () => undefined,
    (id) => new FakeDC(id, lost),
    { attach: () => undefined, settled: (_r, swarm) => settled.push(swarm), onIdle: () => undefined },
    1000,
    { setTimeout: (f) => timers.push(f), clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined },
  );
  assert.ok(s.open('video'));
  assert.ok(s.pending('video'));
  for (const f of timers) f();
  assert.equal(s.has('video'), false);
  assert.deepEqual(settled, ['video']);
});

test('mux: both pages ask for the same swarm at once: one channel, the smaller id\'s', async () => {
  const { a, b, tick } = pair();
  assert.ok(a.session.open('video'));
  assert.ok(b.session.open('video'));
  await tick();
  assert.deepEqual(a.links.map((l) => [l.swarm, l.outgoing]), [['video', true]], 'a (the smaller id) keeps its ask');
  assert.deepEqual(b.links.map((l) => [l.swarm, l.outgoing]), [['video', false]]);
  assert.equal(a.session.size, 1);
  assert.equal(b.session.size, 1);
  assert.deepEqual(b.settled, ['video'], 'b\'s own ask is settled');
});
