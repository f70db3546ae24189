/**
 * A broadcast: the streamer's source (an RTMP push, or an ffmpeg input), packaged run after run
 * into one live stream. Each time the source connects, an ffmpeg run (epoch) starts in its own
 * directory; its MPD is read every `pollMs` into the timeline, from which the adapter serves
 * HLS and DASH. When the source goes, the run finishes its last segment and the playlists keep
 * their window (the page says offline); when it returns, a new run continues the same stream
 * after a discontinuity. A run's files go once none of its segments is listed any more.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogFn } from '../config.js';
import { readCompleteManifest } from '../live-routes.js';
import { flvHeader } from '../rtmp/flv.js';
import type { PublishSink } from '../rtmp/ingest-server.js';
import { epochArgs, epochDirName, EPOCH_MPD, type EpochInput } from './epoch-args.js';
import { parseEpochMpd } from './epoch-mpd.js';
import { startEpochRun, type EpochRun, type SpawnFn } from './epoch-run.js';
import { INITIAL_STATE, nextState, type BroadcastEvent, type StateView } from './state.js';
import { Timeline } from './timeline.js';

export type BroadcastSource = { readonly kind: 'rtmp' } | { readonly kind: 'input'; readonly input: string; readonly loop: boolean };

export interface BroadcastOptions {
  readonly segmentSec: number;
  readonly windowSegments: number;
  readonly renditions: number;
  readonly source: BroadcastSource;
  readonly ffmpegPath: string;
  readonly log: LogFn;
  readonly spawn?: SpawnFn;
  readonly nowMs?: () => number;
  readonly pollMs?: number;
}

export interface BroadcastStatus extends StateView {
  /** The current or last run. */
  readonly epoch: number | undefined;
}

export interface Broadcast {
  /** Holds one directory per run (`e<N>/`). */
  readonly dir: string;
  readonly timeline: Timeline;
  status(): BroadcastStatus;
  /** The RTMP ingest's publisher slot: undefined while a source is on (or the broadcast reads an input). */
  claim(address: string, cut: (reason: string) => void): PublishSink | undefined;
  /** Starts reading an `input` source (no-op for RTMP: pushes start runs). */
  start(): void;
  close(): Promise<void>;
}

/** Segments kept on disk and listed beyond the window (ffmpeg's own MPD lists a few more, so a slow poll misses none). */
const GRACE_SEGMENTS = 3;
const EXTRA_LISTED = 4;
/** Restarting an input that failed: 1 s, doubling to 30 s; back to 1 s after a minute of running. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;
const HEALTHY_RUN_MS = 60_000;

interface Current {
  readonly epoch: number;
  readonly run: EpochRun;
  /** Its MPD may go into the timeline: the run before it is finalized. */
  open: boolean;
  hadSegments: boolean;
}

export async function createBroadcast(o: BroadcastOptions): Promise<Broadcast> {
  const now = o.nowMs ?? Date.now;
  const dir = await mkdtemp(join(tmpdir(), 'relaycast-broadcast-'));
  const timeline = new Timeline({ windowSegments: o.windowSegments, graceSegments: GRACE_SEGMENTS });
  o.log(`broadcast: packaging in ${dir}`);
  let view: StateView = INITIAL_STATE;
  let current: Current | undefined;
  /** A pusher holds the slot: from its authorized publish until its connection ends (its run may still be finishing). */
  let publishing = false;
  let lastEpoch: number | undefined;
  let nextEpoch = 0;
  /** Resolves once the latest run's last MPD is in the timeline: the next run waits for it. */
  let finalized: Promise<void> = Promise.resolve();
  let closing = false;
  let retryMs = RETRY_FIRST_MS;
  let retryTimer: NodeJS.Timeout | undefined;

  const on = (ev: BroadcastEvent): void => {
    const before = view.state;
    view = nextState(view, ev, now());
    if (view.state !== before) o.log(`broadcast: ${before} -> ${view.state}`);
  };

  async function readEpoch(epoch: number): Promise<void> {
    const text = await readCompleteManifest(join(dir, epochDirName(epoch), EPOCH_MPD), EPOCH_MPD).catch(() => undefined);
    const m = text === undefined ? undefined : parseEpochMpd(text);
    if (m !== undefined) timeline.update(epoch, m, now());
  }

  async function removeGone(): Promise<void> {
    for (const epoch of timeline.prune()) {
      if (epoch !== current?.epoch) await rm(join(dir, epochDirName(epoch)), { recursive: true, force: true });
    }
  }

  let polling = false;
  const poll = async (): Promise<void> => {
    if (polling || closing) return;
    polling = true;
    try {
      const c = current;
      if (c?.open) {
        await readEpoch(c.epoch);
        if (!c.hadSegments && timeline.epochHasSegments(c.epoch)) {
          c.hadSegments = true;
          on('segments');
        }
      }
      await removeGone();
    } finally {
      polling = false;
    }
  };
  const pollTimer = setInterval(() => void poll(), o.pollMs ?? 500);
  pollTimer.unref();

  function begin(input: EpochInput): Current {
    const epoch = nextEpoch++;
    lastEpoch = epoch;
    const args = epochArgs({ dir, epoch, input, segmentSec: o.segmentSec, listSegments: o.windowSegments + EXTRA_LISTED, renditions: o.renditions });
    const startedAt = now();
    const made = mkdir(join(dir, epochDirName(epoch)), { recursive: true });
    // The directory exists before ffmpeg opens its first file: spawn after mkdir, via a run that waits for it.
    const run = deferredRun(made, () => startEpochRun({ bin: o.ffmpegPath, args, stdin: input.kind === 'stdin', ...(o.spawn ? { spawn: o.spawn } : {}) }));
    const c: Current = { epoch, run, open: false, hadSegments: false };
    current = c;
    on('source-connected');
    const previous = finalized;
    void previous.then(() => {
      c.open = true;
    });
    finalized = (async () => {
      const how = await run.exited;
      await previous;
      await readEpoch(epoch);
      timeline.end(epoch);
      if (current === c) {
        current = undefined;
        on('source-gone');
      }
      o.log(`broadcast: run ${epoch} ended (${how}) after ${((now() - startedAt) / 1000).toFixed(0)} s${how === 'exit 0' ? '' : `\n${run.stderrTail()}`}`);
      await removeGone();
      if (o.source.kind === 'input') scheduleInput(how, now() - startedAt);
    })();
    return c;
  }

  function scheduleInput(how: string, ranMs: number): void {
    if (closing || o.source.kind !== 'input') return;
    // A file played to its end without --loop is over; a URL (or a failure) is tried again.
    if (how === 'exit 0' && !o.source.loop && !/^[a-z][a-z0-9+.-]*:/i.test(o.source.input)) return;
    if (ranMs >= HEALTHY_RUN_MS) retryMs = RETRY_FIRST_MS;
    const wait = retryMs;
    retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!closing && current === undefined && o.source.kind === 'input') begin({ kind: 'input', input: o.source.input, loop: o.source.loop });
    }, wait);
  }

  return {
    dir,
    timeline,
    status: () => ({ ...view, epoch: lastEpoch }),
    claim(_address, cut) {
      if (closing || o.source.kind !== 'rtmp' || publishing) return undefined;
      publishing = true;
      // A run still finishing for the pusher before (its last segment) goes on beside this one;
      // the new run's segments are listed once the old run's last MPD is read (begin).
      const c = begin({ kind: 'stdin' });
      c.run.write(flvHeader());
      let ended = false;
      // ffmpeg failed while the pusher still pushes: cut the pusher, so it reconnects to a fresh run.
      void c.run.exited.then((how) => {
        if (!ended) cut(`packaging stopped (${how})`);
      });
      return {
        write: (data) => c.run.write(data),
        onDrain: (cb) => c.run.onDrain(cb),
        end(reason) {
          if (ended) return;
          ended = true;
          publishing = false;
          o.log(`broadcast: source gone (${reason})`);
          c.run.stop();
        },
      };
    },
    start() {
      if (o.source.kind === 'input' && current === undefined && !closing) begin({ kind: 'input', input: o.source.input, loop: o.source.loop });
    },
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(pollTimer);
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      current?.run.stop();
      await finalized.catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An EpochRun whose ffmpeg starts once `ready` resolved (its directory exists); writes before that wait. */
function deferredRun(ready: Promise<unknown>, start: () => EpochRun): EpochRun {
  let run: EpochRun | undefined;
  let stopEarly = false;
  const waiting: Buffer[] = [];
  const drains: (() => void)[] = [];
  const started = ready.then(() => {
    run = start();
    for (const b of waiting.splice(0)) run.write(b);
    for (const cb of drains.splice(0)) run.onDrain(cb);
    if (stopEarly) run.stop();
    return run;
  });
  return {
    write(data) {
      if (run !== undefined) return run.write(data);
      waiting.push(data);
      return false;
    },
    onDrain(cb) {
      if (run !== undefined) run.onDrain(cb);
      else drains.push(cb);
    },
    stop() {
      if (run !== undefined) run.stop();
      else stopEarly = true;
    },
    exited: started.then((r) => r.exited, (e: unknown) => `could not start: ${e instanceof Error ? e.message : String(e)}`),
    stderrTail: () => run?.stderrTail() ?? '',
  };
}
