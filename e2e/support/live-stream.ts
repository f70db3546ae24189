import { setTimeout as sleep } from 'node:timers/promises';
import { startAdapter, type Adapter, type AdapterInput } from '../../origin-adapter/index.js';

/** The embedded live source's first media playlist, from the adapter's player URL (`/watch/<stream>`). */
function firstMediaPlaylist(a: Pick<Adapter, 'url' | 'playerUrl'>): string {
  const stream = new URL(a.playerUrl).pathname.split('/').pop() ?? 'demo';
  return `${a.url}/live/${stream}/media_0.m3u8`;
}

/**
 * Resolves once the embedded live stream is older than its window: its playlist has started to
 * slide (ffmpeg numbers segments from 1, so EXT-X-MEDIA-SEQUENCE above 1; about 9 s after the
 * adapter is ready). Viewers of a real stream join one that has been running;
 * a player that starts while the window still holds one or two segments begins at the window's
 * start, and Shaka then moves its playhead ("catch up with the seek range") when the window fills,
 * which fires `waiting` with seconds buffered, P2P or not.
 */
export async function untilLiveWindowSlides(a: Pick<Adapter, 'url' | 'playerUrl'>, timeoutMs = 60_000): Promise<void> {
  const url = firstMediaPlaylist(a);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = await fetch(url, { signal: AbortSignal.timeout(3000) }).then((r) => (r.ok ? r.text() : ''), () => '');
    const seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
    if (seq > 1) return;
    if (Date.now() > end) throw new Error(`the live window of ${url} did not slide within ${timeoutMs} ms`);
    await sleep(500);
  }
}

/** An adapter with the embedded source whose live stream is past its first window. */
export async function startWarmAdapter(o: AdapterInput = {}): Promise<Adapter> {
  const a = await startAdapter({ port: 0, log: () => undefined, ...o });
  try {
    await untilLiveWindowSlides(a);
  } catch (e) {
    await a.close();
    throw e;
  }
  return a;
}

export interface SharedOrigins {
  /** Starts both adapters on first use (their streams warm up together). */
  get(): Promise<{ readonly p2p: Adapter; readonly control: Adapter }>;
  close(): Promise<void>;
}

/**
 * Two warm adapters for the runs of one test file: one for the P2P runs and one for their
 * concurrent controls without P2P (each origin counter must count only its own viewers). Runs
 * that follow each other on one adapter overlap a little in the tracker: a closed viewer stays
 * listed until it misses three announces, as a viewer that leaves without a word does.
 */
export function sharedOrigins(o: AdapterInput = {}): SharedOrigins {
  let started: Promise<PromiseSettledResult<Adapter>[]> | undefined;
  const start = (): Promise<PromiseSettledResult<Adapter>[]> => (started ??= Promise.allSettled([startWarmAdapter(o), startWarmAdapter(o)]));
  return {
    async get() {
      const [p2p, control] = await start();
      if (p2p?.status !== 'fulfilled') throw p2p?.status === 'rejected' ? p2p.reason : new Error('no adapter');
      if (control?.status !== 'fulfilled') throw control?.status === 'rejected' ? control.reason : new Error('no adapter');
      return { p2p: p2p.value, control: control.value };
    },
    async close() {
      if (started === undefined) return;
      const all = await started;
      await Promise.all(all.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    },
  };
}
