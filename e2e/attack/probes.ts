/**
 * The probes of the attack suite, by target: HTTP routes, the tracker, signaling, connections,
 * media files. Each one sends a bounded number of requests (`ctx.take`), counts what the
 * adapter refused (`ctx.refused`: a defence working), records answers that show an adapter
 * failure (`ctx.error`: 5xx, a reset where an answer was due) and states what must hold
 * (`ctx.check`).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { Discovered } from './target.js';
import { get, openSignal, rawSocket, sleep, type Answer, type Ws } from './net.js';

export interface Ctx {
  readonly base: URL;
  readonly adminToken: string | undefined;
  readonly found: Discovered;
  /** A source address of its own for the next probe group (127.0.0.N), so caps hit by one do not skew the next. */
  src(): string | undefined;
  /** Counts `n` probes of `kind`; false once the count or time budget is spent. */
  take(kind: string, n?: number): boolean;
  refused(kind: string, n?: number): void;
  error(kind: string, detail: string): void;
  check(name: string, ok: boolean, detail?: string): void;
  timeLeftMs(): number;
}

const token = (): string => randomBytes(16).toString('hex');

/** An HTTP request that counts as one probe of `kind`; a 5xx (other than a deliberate 503) is an adapter error. */
async function probe(ctx: Ctx, kind: string, path: string | URL, o: Parameters<typeof get>[1] = {}): Promise<Answer | undefined> {
  if (!ctx.take(kind)) return undefined;
  try {
    const a = await get(typeof path === 'string' ? new URL(path, ctx.base) : path, o);
    if (a.status >= 500 && a.status !== 503) ctx.error(kind, `${a.status} for ${String(path)}`);
    if (a.status === 429 || a.status === 413 || a.status === 431 || a.status === 403 || a.status === 401 || a.status === 400) ctx.refused(kind);
    return a;
  } catch {
    ctx.refused(kind);
    return undefined;
  }
}

async function announce(ctx: Ctx, kind: string, body: unknown, localAddress: string | undefined): Promise<Answer | undefined> {
  return probe(ctx, kind, '/relaycast/tracker', { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), localAddress });
}

async function session(ctx: Ctx, kind: string, localAddress: string | undefined, id: string = randomUUID(), tok = token()): Promise<(Ws & { id: string; token: string }) | undefined> {
  if (!ctx.take(kind)) return undefined;
  const w = await openSignal(ctx.base, { id, token: tok }, localAddress);
  if (w.first?.type !== 'OPEN') {
    ctx.refused(kind);
    w.ws.terminate();
    return undefined;
  }
  return { ...w, id, token: tok };
}

const closeAll = (ws: (Ws | undefined)[]): void => {
  for (const w of ws) w?.ws.terminate();
};

/** Public routes: stats summary only, admin behind its token, malformed requests refused. */
export async function httpProbes(ctx: Ctx): Promise<void> {
  const src = ctx.src();
  const pub = await probe(ctx, 'stats', '/relaycast/stats', { localAddress: src });
  if (pub) {
    let keys: string[] = [];
    try {
      keys = Object.keys(JSON.parse(pub.body.toString()) as object);
    } catch {
      keys = [];
    }
    ctx.check('stats: public answer has no swarm ids', pub.status === 200 && !keys.includes('swarms'), keys.join(','));
    ctx.check('stats: public answer is small', pub.body.length < 2048, `${pub.body.length} bytes`);
  }
  if (ctx.adminToken !== undefined) {
    const adm = await probe(ctx, 'stats', '/relaycast/stats', { localAddress: src, headers: { authorization: `Bearer ${ctx.adminToken}` } });
    const swarms = adm ? Object.keys(((JSON.parse(adm.body.toString()) as { swarms?: object }).swarms ?? {}) as object) : [];
    ctx.check('stats: admin swarm ids carry no query', swarms.every((s) => !s.includes('?') || s.includes('?<redacted>')), swarms.slice(0, 3).join(' '));
  }
  const admin = await probe(ctx, 'admin', '/relaycast/admin/p2p', { method: 'POST', body: 'off', localAddress: src, headers: { authorization: `Bearer ${token()}` } });
  ctx.check('admin: a wrong token cannot flip the kill switch', admin === undefined || admin.status === 401 || admin.status === 404, String(admin?.status));
  for (const [path, o] of [
    ['/relaycast/hash?path=nope', {}],
    ['/relaycast/hash?path=/x.ts&range=9-1', {}],
    ['/relaycast/hash?path=/x.ts&range=0-99999999999', {}],
    ['/relaycast/../../etc/passwd', {}],
    ['/live/demo/..%2F..%2Fetc%2Fpasswd', {}],
    ['/watch?src=javascript:alert(1)', {}],
    ['/relaycast/stats', { method: 'DELETE' }],
    ['/relaycast/stats', { headers: { 'x-big': 'x'.repeat(20_000) } }],
  ] as [string, Parameters<typeof get>[1]][]) {
    await probe(ctx, 'http-malformed', path, { ...o, localAddress: src });
  }
  if (ctx.take('http-malformed')) {
    const raw = await rawSocket(ctx.base, src).catch(() => undefined);
    raw?.s.write('GARBAGE / NOT-HTTP\r\n\r\n');
    const closed = await raw?.closedAfterMs(3000);
    ctx.check('http: a malformed request line closes the connection', raw === undefined || closed !== undefined);
    raw?.s.destroy();
  }
  if (ctx.found.vodFile !== undefined) {
    const vod = new URL(ctx.found.vodFile);
    for (let i = 0; i < 10; i++) {
      await probe(ctx, 'hash-range', `/relaycast/hash?path=${encodeURIComponent(vod.pathname)}&range=${i * 1000}-${i * 1000 + 64 * 1024 * 1024 - 1}`, { localAddress: src });
    }
  }
}

/** The ids of a swarm's peers, through a session that announces without uploading (it is then not handed out). */
async function peersOf(ctx: Ctx, swarm: string, s: { id: string; token: string }, src: string | undefined): Promise<string[]> {
  const a = await announce(ctx, 'tracker-peers', { type: 'announce', swarm, peerId: s.id, token: s.token, uploads: false }, src);
  try {
    const j = JSON.parse(a?.body.toString() ?? '{}') as { peers?: string[]; seeders?: string[] };
    return [...new Set([...(j.peers ?? []), ...(j.seeders ?? [])])];
  } catch {
    return [];
  }
}

/** Tracker: bodies, forged announces of other pages' ids, types, a rate flood, self-reported rates. */
export async function trackerProbes(ctx: Ctx): Promise<string[]> {
  const src = ctx.src();
  for (const body of ['', '{', 'null', '[]', '{"type":"announce"}', JSON.stringify({ type: 'announce', swarm: 's', peerId: 'x'.repeat(65) })]) await announce(ctx, 'tracker-malformed', body, src);
  const big = await announce(ctx, 'tracker-malformed', JSON.stringify({ type: 'announce', swarm: 's', peerId: 'p', pad: 'x'.repeat(9000) }), src);
  ctx.check('tracker: a body over 8 KiB is refused', big === undefined || big.status === 413, String(big?.status));
  const me = await session(ctx, 'tracker-session', src);
  const honest: string[] = [];
  if (me) {
    const strict = await announce(ctx, 'tracker-types', { type: 'announce', swarm: `${ctx.base.href}attack/types.m3u8`, peerId: me.id, token: me.token, uploads: 'yes' }, src);
    ctx.check('tracker: uploads "yes" is refused', strict?.status === 400, String(strict?.status));
    for (const swarm of ctx.found.swarms) honest.push(...(await peersOf(ctx, swarm, me, src)).filter((id) => id !== me.id));
    // Withdrawing (uploads: false) or re-announcing other pages' ids: without their token, with a forged one, with ours.
    let accepted = 0;
    for (const id of honest.slice(0, 16)) {
      for (const tok of [undefined, token(), me.token]) {
        const a = await announce(ctx, 'tracker-forged', { type: 'announce', swarm: ctx.found.swarms[0], peerId: id, uploads: false, ...(tok ? { token: tok } : {}) }, src);
        if (a?.status === 200) accepted++;
      }
    }
    ctx.check('tracker: announces of other pages\' ids are refused', accepted === 0, `${accepted} accepted`);
    if (ctx.found.swarms[0] !== undefined && honest.length > 0) {
      const after = await peersOf(ctx, ctx.found.swarms[0], me, src);
      ctx.check('tracker: honest pages are still handed out after forged withdrawals', honest.some((id) => after.includes(id)), `${after.length} listed`);
    }
  }
  // A flood of announces from one address: limited per address.
  const flood = ctx.src();
  let limited = 0;
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < 300; i++) {
    tasks.push(announce(ctx, 'tracker-flood', '{', flood).then((a) => void (a?.status === 429 && limited++)));
    if (tasks.length >= 20) await Promise.all(tasks.splice(0));
  }
  await Promise.all(tasks);
  ctx.check('tracker: an announce flood from one address is rate limited', limited > 0, `${limited} answered 429`);
  await sybils(ctx);
  closeAll([me]);
  return honest;
}

/**
 * Self-reported upload rates, in a swarm of the suite's own: ids that claim 10 Gbit/s and
 * confirm each other from one address must not take a seeder place from honest-looking ones.
 */
async function sybils(ctx: Ctx): Promise<void> {
  const swarm = `${ctx.base.href}attack/${randomUUID()}/sybil.m3u8`;
  const [hSrc, sSrc] = [ctx.src(), ctx.src()];
  const honest = (await Promise.all(Array.from({ length: 22 }, () => session(ctx, 'tracker-sybil', hSrc)))).filter((s) => s !== undefined);
  const fakes = (await Promise.all(Array.from({ length: 20 }, () => session(ctx, 'tracker-sybil', sSrc)))).filter((s) => s !== undefined);
  const ann = (s: { id: string; token: string }, over: object) => ({ type: 'announce', swarm, peerId: s.id, token: s.token, uploads: true, freeLinks: 0, ...over });
  for (const h of honest) await announce(ctx, 'tracker-sybil', ann(h, {}), hSrc);
  for (const h of honest) await announce(ctx, 'tracker-sybil', ann(h, { uploadBytesPerSec: 150_000 }), hSrc);
  let seeders: string[] = [];
  for (const [i, f] of fakes.entries()) {
    const next = fakes[(i + 1) % fakes.length];
    const a = await announce(ctx, 'tracker-sybil', ann(f, { uploadBytesPerSec: 1_250_000_000, ...(next ? { received: [{ peer: next.id, bytesPerSec: 1_250_000_000 }] } : {}) }), sSrc);
    try {
      seeders = (JSON.parse(a?.body.toString() ?? '{}') as { seeders?: string[] }).seeders ?? seeders;
    } catch {
      // keep the last list
    }
  }
  const fakeIds = new Set(fakes.map((f) => f.id));
  ctx.check('tracker: ids claiming 10 Gbit/s, confirming each other, take no seeder place', seeders.length > 0 && !seeders.some((s) => fakeIds.has(s)), `seeders ${seeders.length}, fakes among them ${seeders.filter((s) => fakeIds.has(s)).length}`);
  closeAll([...honest, ...fakes]);
}

/** Signaling: socket caps, id hijack, forged offers from outside a swarm, queue floods, message rates, junk. */
export async function signalingProbes(ctx: Ctx, honest: readonly string[]): Promise<void> {
  // Sockets from one address: over the per-address cap they are refused before the handshake.
  const capSrc = ctx.src();
  const held: (Ws | undefined)[] = [];
  let refusedSockets = 0;
  for (let i = 0; i < 60 && ctx.take('signaling-sockets'); i++) {
    const w = await openSignal(ctx.base, { id: randomUUID(), token: token() }, capSrc);
    held.push(w);
    if (w.first?.type !== 'OPEN') {
      refusedSockets++;
      ctx.refused('signaling-sockets');
    }
  }
  ctx.check('signaling: one address cannot hold unlimited sockets', refusedSockets > 0, `${held.length - refusedSockets} held, ${refusedSockets} refused`);
  closeAll(held);

  // Taking an honest page's id with another token.
  const hijackSrc = ctx.src();
  let hijacked = 0;
  for (const id of honest.slice(0, 8)) {
    if (!ctx.take('signaling-hijack')) break;
    const w = await openSignal(ctx.base, { id, token: token() }, hijackSrc);
    if (w.first?.type === 'OPEN') hijacked++;
    else ctx.refused('signaling-hijack');
    w.ws.terminate();
  }
  ctx.check('signaling: a live page\'s id cannot be taken with another token', hijacked === 0, `${hijacked} taken`);

  // Forged offers and candidates from an id that shares no swarm with anyone.
  const offSrc = ctx.src();
  const outsider = await session(ctx, 'signaling-forged', offSrc);
  const victim = await session(ctx, 'signaling-forged', ctx.src());
  if (outsider && victim) {
    await announce(ctx, 'signaling-forged', { type: 'announce', swarm: `${ctx.base.href}attack/${randomUUID()}/victim.m3u8`, peerId: victim.id, token: victim.token, uploads: true }, undefined);
    const targets = [victim.id, ...honest.slice(0, 8)];
    for (let i = 0; i < 40; i++) {
      for (const dst of targets) {
        if (!ctx.take('signaling-forged', 2)) break;
        outsider.ws.send(JSON.stringify({ type: 'OFFER', dst, payload: { sdp: { type: 'offer', sdp: 'v=0' }, type: 'data', connectionId: `dc_${i}`, serialization: 'constructor' } }));
        outsider.ws.send(JSON.stringify({ type: 'CANDIDATE', dst, payload: { candidate: { candidate: 'x' }, type: 'data', connectionId: `dc_${i}` } }));
      }
    }
    await sleep(300);
    ctx.check('signaling: offers and candidates from outside a swarm are not relayed', victim.got.length === 0, `${victim.got.length} reached the victim`);
  }
  closeAll([outsider, victim]);

  // 150 x 60 KB of offers for a paired id that is reconnecting: its queue is byte-capped.
  const qSrc = ctx.src();
  const a = await session(ctx, 'signaling-queue', qSrc);
  const b = await session(ctx, 'signaling-queue', qSrc);
  if (a && b) {
    const swarm = `${ctx.base.href}attack/${randomUUID()}/queue.m3u8`;
    await announce(ctx, 'signaling-queue', { type: 'announce', swarm, peerId: a.id, token: a.token }, qSrc);
    await announce(ctx, 'signaling-queue', { type: 'announce', swarm, peerId: b.id, token: b.token }, qSrc);
    b.ws.close();
    await b.closed;
    const pad = 'p'.repeat(60_000);
    for (let i = 0; i < 150 && a.ws.readyState === WebSocket.OPEN && ctx.take('signaling-queue'); i++) {
      a.ws.send(JSON.stringify({ type: 'OFFER', dst: b.id, payload: { sdp: pad, connectionId: `q${i}` } }));
    }
    await sleep(300);
    const back = await session(ctx, 'signaling-queue', qSrc, b.id, b.token);
    await sleep(300);
    ctx.check('signaling: messages queued for a reconnecting id are byte-capped', back !== undefined && back.got.length <= 2, `${back?.got.length ?? 'n/a'} delivered`);
    closeAll([back]);
  }
  closeAll([a, b]);

  // Message rate: one socket over its budget, then several sockets of one address over the address's.
  const rSrc = ctx.src();
  const fast = await session(ctx, 'signaling-rate', rSrc);
  if (fast) {
    for (let i = 0; i < 400 && ctx.take('signaling-rate'); i++) fast.ws.send('{"type":"HEARTBEAT"}');
    await Promise.race([fast.closed, sleep(2000)]);
    const cut = fast.ws.readyState !== WebSocket.OPEN;
    if (cut) ctx.refused('signaling-rate');
    ctx.check('signaling: a socket over its message rate is cut', cut);
  }
  const many = (await Promise.all(Array.from({ length: 8 }, () => session(ctx, 'signaling-rate', rSrc)))).filter((s) => s !== undefined);
  for (const s of many) for (let i = 0; i < 190 && ctx.take('signaling-rate'); i++) s.ws.send('{"type":"HEARTBEAT"}');
  await sleep(500);
  const cutMany = many.filter((s) => s.ws.readyState !== WebSocket.OPEN).length;
  ctx.refused('signaling-rate', cutMany);
  ctx.check('signaling: one address\'s sockets share one message budget', many.length < 6 || cutMany > 0, `${cutMany} of ${many.length} cut`);
  closeAll([fast, ...many]);

  // Junk frames and an oversize frame.
  const junk = await session(ctx, 'signaling-junk', ctx.src());
  if (junk) {
    for (const m of ['{', 'null', '[]', '{"type":"__proto__"}', '{"type":"OFFER"}', '{"type":"EXPIRE","dst":"x"}']) for (let i = 0; i < 5 && ctx.take('signaling-junk'); i++) junk.ws.send(m);
    if (ctx.take('signaling-junk')) junk.ws.send('x'.repeat(200 * 1024));
    await Promise.race([junk.closed, sleep(2000)]);
    ctx.check('signaling: junk and oversize frames close the socket', junk.ws.readyState !== WebSocket.OPEN);
    junk.ws.terminate();
  }
  const peers = await probe(ctx, 'signaling-rest', '/relaycast/signal/peerjs/peers', { localAddress: ctx.src() });
  ctx.check('signaling: no peer discovery', peers === undefined || peers.status === 401 || peers.status === 404, String(peers?.status));
}

/** Requests in flight at once while spoofing X-Forwarded-For. */
const XFF_BATCH = 25;

/** Slow and idle TCP connections; X-Forwarded-For spoofing. Runs alongside the others. */
export async function connectionProbes(ctx: Ctx): Promise<void> {
  const slowSrc = ctx.src();
  const slow = (await Promise.all(Array.from({ length: 10 }, () => (ctx.take('slowloris') ? rawSocket(ctx.base, slowSrc).catch(() => undefined) : undefined)))).filter((s) => s !== undefined);
  const timers = slow.map((r) => {
    r.s.write('GET /relaycast/stats HTTP/1.1\r\nHost: x\r\n');
    return setInterval(() => r.s.write('X-Slow: 1\r\n'), 1000);
  });
  const waitMs = Math.max(1000, Math.min(20_000, ctx.timeLeftMs() - 2000));
  const idleSrc = ctx.src();
  const idle = [];
  for (let i = 0; i < 150 && ctx.take('idle-sockets'); i++) idle.push(await rawSocket(ctx.base, idleSrc).catch(() => undefined));
  const idleClosed = await Promise.all(idle.map((r) => (r ? r.closedAfterMs(1500) : Promise.resolve(0))));
  const refusedIdle = idleClosed.filter((c) => c !== undefined).length;
  ctx.refused('idle-sockets', refusedIdle);
  ctx.check('connections: one address cannot hold unlimited idle sockets', refusedIdle > 0, `${idle.length - refusedIdle} held, ${refusedIdle} closed at once`);
  for (const r of idle) r?.s.destroy();
  // X-Forwarded-For: a client writing a new first entry each time (only matters with --trust-proxy).
  const xffSrc = ctx.src();
  // In concurrent batches: the budget refills while requests are under way, and a busy machine must not refill it faster than they go.
  let limited = 0;
  for (let i = 0; i < 400 && limited === 0; i += XFF_BATCH) {
    const batch = Array.from({ length: XFF_BATCH }, (_, k) =>
      probe(ctx, 'xff-spoof', '/relaycast/hash?path=/attack.ts', { localAddress: xffSrc, headers: { 'x-forwarded-for': `10.${(i + k) & 255}.${((i + k) >> 8) & 255}.1` } }),
    );
    const answers = await Promise.all(batch);
    if (answers.every((a) => a === undefined)) break;
    limited += answers.filter((a) => a?.status === 429).length;
  }
  ctx.check('rate limits: a spoofed X-Forwarded-For does not buy a new budget', limited > 0, `${limited} answered 429`);
  const closedSlow = await Promise.all(slow.map((r) => r.closedAfterMs(waitMs)));
  for (const t of timers) clearInterval(t);
  const cut = closedSlow.filter((c) => c !== undefined).length;
  ctx.refused('slowloris', cut);
  const slowest = Math.max(0, ...closedSlow.map((c) => c ?? 0));
  ctx.check('connections: connections trickling headers are closed', slow.length === 0 || cut === slow.length, `${cut} of ${slow.length} closed, the last after ${slowest} ms (waited up to ${waitMs} ms)`);
  for (const r of slow) r.s.destroy();
}

/** Media files: ranges per RFC 9110, in-progress files, and whose bytes a published hash is of. */
export async function mediaProbes(ctx: Ctx): Promise<void> {
  const seg = ctx.found.segment;
  if (seg === undefined) return;
  const src = ctx.src();
  const url = new URL(seg);
  const backwards = await probe(ctx, 'range', url, { localAddress: src, headers: { range: 'bytes=100-50' } });
  ctx.check('range: bytes=100-50 is ignored (200)', backwards?.status === 200 || backwards?.status === 404, String(backwards?.status));
  const stale = await probe(ctx, 'range', url, { localAddress: src, headers: { range: 'bytes=0-9', 'if-range': '"nope"' } });
  ctx.check('range: a non-matching If-Range gets 200', stale?.status === 200 || stale?.status === 404, String(stale?.status));
  const upper = await probe(ctx, 'range', url, { localAddress: src, headers: { range: 'BYTES=0-9' } });
  ctx.check('range: the unit is case-insensitive', upper?.status === 206 || upper?.status === 404, String(upper?.status));
  const tmp = await probe(ctx, 'range', new URL(`${url.pathname}.tmp`, ctx.base), { localAddress: src });
  ctx.check('files: .tmp names are not served', tmp === undefined || tmp.status === 404, String(tmp?.status));
  // First request with gzip and a query, then the published hash against a plain (identity) copy.
  const poisoned = new URL(url);
  poisoned.searchParams.set('v', '1');
  await probe(ctx, 'hash-poison', poisoned, { localAddress: src, headers: { 'accept-encoding': 'gzip' } });
  const plain = await probe(ctx, 'hash-poison', url, { localAddress: src, maxBodyBytes: 64 << 20 });
  const h = await probe(ctx, 'hash-poison', `/relaycast/hash?path=${encodeURIComponent(url.pathname)}`, { localAddress: src });
  if (plain?.status === 200 && h?.status === 200) {
    const want = createHash('sha256').update(plain.body).digest('base64url');
    const got = (JSON.parse(h.body.toString()) as { sha256?: string }).sha256;
    ctx.check('integrity: the published hash is of the canonical bytes, whoever asked first', got === want);
  }
}
