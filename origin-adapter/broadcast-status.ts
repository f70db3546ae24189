/**
 * GET /relaycast/broadcast: what the broadcast page shows beside the player. Public (the page
 * polls it), small and the same for everyone, so it is computed at most once per second.
 */
import type { BroadcastState } from './broadcast/state.js';

export interface BroadcastAnswer {
  readonly stream: string;
  readonly title: string;
  readonly state: BroadcastState;
  /** Since when (Unix ms). */
  readonly sinceMs: number;
  /** Viewers whose pages run relaycast: distinct peers in the stream's swarms at the tracker. */
  readonly viewers: number;
}

export interface StatusSource {
  readonly stream: string;
  readonly title: string;
  readonly state: () => { readonly state: BroadcastState; readonly sinceMs: number };
  readonly viewers: () => number;
  readonly nowMs?: () => number;
}

const CACHE_MS = 1000;

export function createStatus(o: StatusSource): () => BroadcastAnswer {
  const now = o.nowMs ?? Date.now;
  let cached: { atMs: number; answer: BroadcastAnswer } | undefined;
  return () => {
    const t = now();
    if (cached !== undefined && t - cached.atMs < CACHE_MS) return cached.answer;
    const s = o.state();
    cached = { atMs: t, answer: { stream: o.stream, title: o.title, state: s.state, sinceMs: s.sinceMs, viewers: o.viewers() } };
    return cached.answer;
  };
}

/** Whether a swarm id (a manifest URL, its host removed with `ignoreHost`; DASH ones with a `#…` fragment) belongs to /live/<stream>/. */
export function isStreamSwarm(stream: string): (swarm: string) => boolean {
  const prefix = `/live/${stream}/`;
  return (swarm) => {
    try {
      return new URL(swarm.split('#')[0] ?? '', 'http://local').pathname.startsWith(prefix);
    } catch {
      return false;
    }
  };
}
