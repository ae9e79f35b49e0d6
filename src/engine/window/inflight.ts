import { NONE, append, without } from './compact.js';

/**
 * Generations in flight for one account: from `requested` until `completed` or `failed`.
 * A request whose end never arrives stops counting after the policy's in-flight timeout.
 */
export interface InFlight {
  requestIds: readonly string[];
  startedAt: readonly number[];
  /** Requests whose end arrived before their start (late delivery); created only when that happens. */
  endedEarly?: string[];
}

const MAX_ENDED_EARLY = 16;

/** Hard bound per account whatever the timeout: far above any human, enough to prove abuse. */
const MAX_TRACKED = 512;

export function newInFlight(): InFlight {
  return { requestIds: NONE, startedAt: NONE };
}

export function requestStarted(f: InFlight, requestId: string, t: number): void {
  if (f.requestIds.includes(requestId) || f.endedEarly?.includes(requestId)) return;
  f.requestIds = append(f.requestIds, requestId);
  f.startedAt = append(f.startedAt, t);
  if (f.requestIds.length > MAX_TRACKED) drop(f, f.startedAt.indexOf(Math.min(...f.startedAt)));
}

export function requestEnded(f: InFlight, requestId: string): void {
  const i = f.requestIds.indexOf(requestId);
  if (i >= 0) {
    drop(f, i);
    return;
  }
  const early = append(f.endedEarly ?? [], requestId);
  f.endedEarly = early.length > MAX_ENDED_EARLY ? early.slice(1) : early;
}

/** Forgets requests started at or before `t − timeout`, then returns how many remain in flight. */
export function inFlightAt(f: InFlight, t: number, timeout: number): number {
  const cutoff = t - timeout;
  let kept = 0;
  for (const s of f.startedAt) if (s > cutoff) kept++;
  if (kept < f.startedAt.length) {
    // One exact-size rebuild however many expired (a script can have hundreds time out together).
    const ids = new Array<string>(kept);
    const starts = new Array<number>(kept);
    for (let i = 0, k = 0; i < f.startedAt.length; i++) {
      if (f.startedAt[i]! <= cutoff) continue;
      ids[k] = f.requestIds[i]!;
      starts[k++] = f.startedAt[i]!;
    }
    f.requestIds = ids;
    f.startedAt = starts;
  }
  return kept;
}

function drop(f: InFlight, i: number): void {
  f.requestIds = without(f.requestIds, i);
  f.startedAt = without(f.startedAt, i);
}
