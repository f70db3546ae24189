/**
 * Whether a broadcast is on air, as its page and its status route say it. Pure: events and a
 * clock in, the new state out.
 *
 *   waiting  --source connected-->  starting  --first segment-->  live
 *   starting --source gone--> offline (or waiting, if it never was live)
 *   live     --source gone--> offline  --source connected--> starting
 */

export type BroadcastState = 'waiting' | 'starting' | 'live' | 'offline';
export type BroadcastEvent = 'source-connected' | 'segments' | 'source-gone';

export interface StateView {
  readonly state: BroadcastState;
  /** When the state was entered (Unix ms). */
  readonly sinceMs: number;
  /** Times the broadcast went live, since the adapter started. */
  readonly runs: number;
}

export const INITIAL_STATE: StateView = { state: 'waiting', sinceMs: 0, runs: 0 };

export function nextState(s: StateView, ev: BroadcastEvent, nowMs: number): StateView {
  const to = (state: BroadcastState, runs = s.runs): StateView => (state === s.state ? s : { state, sinceMs: nowMs, runs });
  switch (ev) {
    case 'source-connected':
      return s.state === 'live' ? s : to('starting');
    case 'segments':
      return s.state === 'starting' ? to('live', s.runs + 1) : s;
    case 'source-gone':
      if (s.state === 'live') return to('offline');
      if (s.state === 'starting') return to(s.runs > 0 ? 'offline' : 'waiting');
      return s;
  }
}
