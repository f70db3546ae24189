import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PortCalls, type SharedPort } from '../../protocol/port-request.js';
import { parseSegmentReply, parsePageToWorker, parseWorkerToPage, type SegmentReply } from '../../protocol/worker.js';
import { PageLink, type PageTarget } from '../../sw/page-link.js';

/** A port whose posts are recorded and whose incoming messages the test delivers. */
function fakePort(): SharedPort & { posted: { msg: unknown; transfer: unknown[] }[]; deliver(data: unknown): void; closed: boolean; listeners: number } {
  const listeners = new Set<(e: { data: unknown }) => void>();
  return {
    posted: [],
    closed: false,
    get listeners() {
      return listeners.size;
    },
    postMessage(msg, transfer) {
      if (this.closed) throw new Error('closed');
      this.posted.push({ msg, transfer });
    },
    addEventListener: (_t, f) => void listeners.add(f),
    removeEventListener: (_t, f) => void listeners.delete(f),
    start: () => undefined,
    close() {
      this.closed = true;
    },
    deliver: (data) => listeners.forEach((f) => f({ data })),
  };
}

/** Timers the test fires by hand. */
function manualTimers(): { setTimeout(f: () => void, ms: number): unknown; clearTimeout(t: unknown): void; fire(): void } {
  const due = new Map<number, () => void>();
  let n = 0;
  return {
    setTimeout: (f) => (due.set(++n, f), n),
    clearTimeout: (t) => void due.delete(t as number),
    fire: () => [...due.values()].forEach((f) => f()),
  };
}

test('requests on one port are told apart by id, whatever order the replies come in; a late reply is dropped', async () => {
  const port = fakePort();
  const timers = manualTimers();
  const calls = new PortCalls<SegmentReply>(port, parseSegmentReply, timers, 2);
  const a = calls.request(1, { type: 'rc-get', reqId: 1 }, [], 1000);
  const b = calls.request(2, { type: 'rc-get', reqId: 2 }, [], 1000);
  assert.deepEqual((await calls.request(3, {}, [], 1000)).ok, false, 'at most maxPending at once');
  assert.equal((await calls.request(2, {}, [], 1000)).ok, false, 'an id in use is refused');
  port.deliver({ type: 'rc-miss', reqId: 2, reason: 'no time' });
  port.deliver({ type: 'rc-hit', reqId: 9, bytes: new ArrayBuffer(4) });
  port.deliver('not a reply');
  port.deliver({ type: 'rc-hit', reqId: 1, bytes: new ArrayBuffer(4) });
  assert.deepEqual(await b, { ok: true, value: { type: 'rc-miss', reqId: 2, reason: 'no time' } });
  const ra = await a;
  assert.ok(ra.ok && ra.value.type === 'rc-hit' && ra.value.bytes.byteLength === 4);
  assert.equal(calls.size, 0);
  const c = calls.request(4, {}, [], 1000);
  timers.fire();
  assert.deepEqual(await c, { ok: false, reason: 'timeout' });
  assert.equal(calls.size, 0, 'a timed-out request leaves nothing behind');
  const ctl = new AbortController();
  const d = calls.request(5, {}, [], 1000, ctl.signal);
  ctl.abort();
  assert.deepEqual(await d, { ok: false, reason: 'aborted' });
  const e = calls.request(6, {}, [], 1000);
  calls.close();
  assert.deepEqual(await e, { ok: false, reason: 'closed' });
  assert.ok(port.closed);
  assert.equal(port.listeners, 0);
  assert.deepEqual(await calls.request(7, {}, [], 1000), { ok: false, reason: 'post failed' });
});

test('the hello and the port offer parse; a bad port number is refused', () => {
  assert.deepEqual(parsePageToWorker({ type: 'rc-mesh', port: 7 }), { ok: true, value: { type: 'rc-mesh', port: 7 } });
  assert.deepEqual(parsePageToWorker({ type: 'rc-mesh' }), { ok: true, value: { type: 'rc-mesh' } });
  assert.equal(parsePageToWorker({ type: 'rc-mesh', port: 'x' }).ok, false);
  assert.deepEqual(parseWorkerToPage({ type: 'rc-port', n: 3 }), { ok: true, value: { type: 'rc-port', n: 3 } });
  assert.equal(parseWorkerToPage({ type: 'rc-port', n: -1 }).ok, false);
});

test('a page gets a port at its first hello; once its hellos name it, requests and playlists go over it without the browser', async () => {
  let now = 0;
  let gets = 0;
  const viaClient: unknown[] = [];
  const client: PageTarget = { id: 'page', postMessage: (m) => void viaClient.push(m) };
  const port1 = fakePort();
  const link = new PageLink(
    { get: async () => (gets++, client as Client), matchAll: async () => [] },
    6000,
    () => now,
    () => ({ port1, port2: { transferable: true } }),
    () => 0.5,
  );
  link.hello(client);
  const offer = viaClient[0] as { type: string; n: number };
  assert.equal(offer.type, 'rc-port');
  link.hello(client);
  assert.equal(viaClient.length, 1, 'offered once');
  // Not named yet (the page may be an older client that ignores the offer): the browser's way.
  assert.equal(await link.pick('page'), client);
  assert.equal(gets, 1);
  link.hello(client, offer.n);
  const page = await link.pick('page');
  assert.ok(page);
  assert.equal(gets, 1, 'a page on its port is not looked up');
  const answer = link.ask(page, { swarm: 's', id: 'seg', seq: 1, maxWaitMs: 100 }, 1000);
  const get = port1.posted.at(-1)?.msg as { type: string; reqId: number };
  assert.equal(get.type, 'rc-get');
  port1.deliver({ type: 'rc-hit', reqId: get.reqId, bytes: new ArrayBuffer(8) });
  const a = await answer;
  assert.ok(a.hit && a.bytes.byteLength === 8);
  const bytes = new ArrayBuffer(3);
  link.tell(page, { type: 'rc-fetched', swarm: 's', id: 'seg', seq: 1, bytes });
  assert.deepEqual(port1.posted.at(-1), { msg: { type: 'rc-fetched', swarm: 's', id: 'seg', seq: 1, bytes }, transfer: [bytes] });
  assert.equal(viaClient.length, 1, 'nothing more through the browser');
  now = 7000;
  assert.equal(await link.pick('page'), undefined, 'a page that stopped saying hello is gone');
  assert.ok(port1.closed, 'and its port closed');
  assert.equal(link.portCount, 0);
});
