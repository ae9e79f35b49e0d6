import { append } from './compact.js';

/**
 * Generations in flight for one account: from `requested` until `completed` or `failed`.
 * A request whose end never arrives stops counting after the policy's in-flight timeout.
 */
export interface InFlight {
  requestIds: string[];
  startedAt: number[];
  /** Requests whose end arrived before their start (late delivery); created only when that happens. */
  endedEarly?: string[];
}

const MAX_ENDED_EARLY = 16;

/** Hard bound per account whatever the timeout: far above any human, enough to prove abuse. */
const MAX_TRACKED = 512;

export function newInFlight(): InFlight {
  return { requestIds: [], startedAt: [] };
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
  for (let i = f.startedAt.length - 1; i >= 0; i--) {
    if (f.startedAt[i]! <= t - timeout) drop(f, i);
  }
  return f.requestIds.length;
}

function drop(f: InFlight, i: number): void {
  f.requestIds.splice(i, 1);
  f.startedAt.splice(i, 1);
}
