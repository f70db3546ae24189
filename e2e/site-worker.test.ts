// Browser test: a site that already has its own service worker imports relaycast's worker logic
// (importScripts) instead of registering ours at the same scope.
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAdapter } from '../origin-adapter/index.js';
import { launchBrowser } from './support/browser.js';
import { openViewer } from './support/viewers.js';

/** The site's worker, as docs/integration.md shows it. */
const SITE_WORKER = `
self.relaycastConfig = {};
importScripts('/relaycast/sw.js');
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => {
  if (self.relaycast.handles(e.request)) return; // relaycast answers media requests
  if (new URL(e.request.url).pathname === '/site-hello') e.respondWith(new Response('hello from the site worker'));
});`;

test("a site's own worker imports relaycast: both answer their own requests; the page uses the site's worker", { timeout: 120_000 }, async () => {
  const adapter = await startAdapter({ port: 0, log: () => undefined });
  const target = new URL(adapter.url);
  // The "site": serves its worker and passes everything else to the adapter.
  const site = createServer((req, res) => {
    if (req.url === '/site-sw.js') {
      res.writeHead(200, { 'Content-Type': 'application/javascript', 'Cache-Control': 'no-cache' }).end(SITE_WORKER);
      return;
    }
    // Viewers close mid-transfer: every socket of this little proxy swallows its errors.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      r.on('error', () => res.destroy());
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  site.on('upgrade', (req, socket) => {
    // Signaling (WebSocket) goes straight to the adapter too.
    socket.on('error', () => undefined);
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers });
    up.on('upgrade', (r, upSocket) => {
      upSocket.on('error', () => socket.destroy());
      socket.on('close', () => upSocket.destroy());
      socket.write(`HTTP/1.1 101 Switching Protocols\r\n${Object.entries(r.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\r\n')}\r\n\r\n`);
      upSocket.pipe(socket).pipe(upSocket);
    });
    up.on('error', () => socket.destroy());
    up.end();
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', () => r()));
  const addr = site.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const browser = await launchBrowser();
  try {
    const v = await openViewer(browser, `http://127.0.0.1:${port}/watch/demo`, 0, { p2p: true, options: { swUrl: '/site-sw.js' } });
    let s = await v.sample();
    for (let i = 0; i < 80 && !(s?.controlled && s.playing && (s.relaycast?.deliveredOriginBytes ?? 0) > 0); i++) {
      await sleep(500);
      s = await v.sample();
    }
    assert.ok(s?.controlled, 'controlled');
    assert.ok(s?.playing, 'plays');
    const script = await v.page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? '');
    assert.match(script, /\/site-sw\.js$/, "the site's worker controls the page, not a second registration");
    const regs = await v.page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length);
    assert.equal(regs, 1);
    assert.ok((s?.relaycast?.deliveredOriginBytes ?? 0) > 0, "relaycast's logic in the site worker passes segments through the page");
    assert.equal(await v.page.evaluate(async () => (await fetch('/site-hello')).text()), 'hello from the site worker');
    await v.close();
  } finally {
    await browser.close();
    await new Promise<void>((r) => site.close(() => r()));
    site.closeAllConnections();
    await adapter.close();
  }
});
