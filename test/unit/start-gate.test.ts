import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { whenPlaying, type MediaPage } from '../../client/page/start-gate.js';

function page(media: { paused: boolean; readyState: number }[] = []): MediaPage & { fire(): void; listeners(): number } {
  const target = new EventTarget();
  let n = 0;
  return {
    addEventListener: (t, l, c) => {
      n++;
      target.addEventListener(t, l, c);
    },
    removeEventListener: (t, l, c) => {
      n--;
      target.removeEventListener(t, l, c);
    },
    querySelectorAll: () => media,
    fire: () => target.dispatchEvent(new Event('playing')),
    listeners: () => n,
  };
}

test('the mesh waits for the first playing event, then lets go of the page', async () => {
  const p = page([{ paused: true, readyState: 0 }]);
  let started = false;
  const gate = whenPlaying(p, 60_000).then(() => (started = true));
  await sleep(20);
  assert.equal(started, false, 'nothing plays yet');
  p.fire();
  await gate;
  assert.equal(started, true);
  assert.equal(p.listeners(), 0);
});

test('it waits at most maxWaitMs when the page shows no media element (a player in a shadow root)', async () => {
  const p = page();
  const t0 = Date.now();
  await whenPlaying(p, 50);
  assert.ok(Date.now() - t0 >= 45);
  assert.equal(p.listeners(), 0);
});

test('a video that is there but has not started keeps the mesh waiting past maxWaitMs, until it plays', async () => {
  const p = page([{ paused: false, readyState: 1 }]);
  let started = false;
  const gate = whenPlaying(p, 30).then(() => (started = true));
  await sleep(80);
  assert.equal(started, false, 'a struggling player gets no mesh on top');
  p.fire();
  await gate;
  assert.equal(started, true);
  assert.equal(p.listeners(), 0);
});

test('at once when something already plays, or when the wait is 0', async () => {
  await whenPlaying(page([{ paused: false, readyState: 4 }]), 60_000);
  await whenPlaying(page(), 0);
});
