import { iso } from '../time/instant.js';
import type { GenerationEvent } from '../contract/event.js';
import type { ConditionEvidence } from '../contract/outputs.js';
import { readField } from '../rules/match.js';
import type { Condition } from '../rules/schema.js';
import { addToBuckets, busyBuckets, newBuckets, type Buckets } from './window/buckets.js';
import { addToCadence, cadenceStats, newCadence, type Cadence } from './window/cadence.js';
import { addDistinct, countDistinct, distinctInWindow, newDistinct, newestOf, type DistinctValues } from './window/distinct.js';
import { addTimestamp, fullestWindowContaining, newTimestamps, type Timestamps } from './window/timestamps.js';

/** Per-key state of one condition; plain data so it snapshots as JSON. */
export type ConditionState = Timestamps | DistinctValues | Buckets | Cadence | { since: number | null };

export interface Observation {
  readonly event: GenerationEvent;
  readonly ts: number;
  /** Generations the event's account has in flight at `ts`. */
  readonly inFlight: number;
}

/**
 * Outcome of a condition at one event. One mutable verdict per rule condition is reused for every event, so the hot
 * path allocates nothing; it becomes evidence (ISO strings and all) only when a rule fires.
 */
export interface Verdict {
  kind: Condition['kind'];
  met: boolean;
  observed: number;
  threshold: number;
  comparison: ConditionEvidence['comparison'];
  from: number;
  to: number;
  /** Accounts the condition saw on this key (distinct on accountId), to strike every account of a farm. */
  accounts: readonly string[] | undefined;
}

export function newVerdict(c: Condition): Verdict {
  const comparison = c.kind === 'cadence' ? '<=' : '>=';
  return { kind: c.kind, met: false, observed: 0, threshold: 0, comparison, from: 0, to: 0, accounts: undefined };
}

function settle(v: Verdict, met: boolean, observed: number, threshold: number, from: number, to: number): boolean {
  v.met = met;
  v.observed = observed;
  v.threshold = threshold;
  v.from = from;
  v.to = to;
  return met;
}

export function evidenceOf(v: Verdict): ConditionEvidence {
  return { kind: v.kind, observed: v.observed, threshold: v.threshold, comparison: v.comparison, window: { from: iso(v.from), to: iso(v.to) } };
}

/** Extra entries kept beyond a threshold, so evidence can show how far over it a key went (exact up to this). */
const HEADROOM = 8;

/** How long an idle key must keep this condition's state before it can no longer matter. */
export function retention(c: Condition, inflightTimeout: number): number {
  switch (c.kind) {
    case 'velocity':
    case 'distinct':
      return c.window;
    case 'throughput':
      return c.bucket * c.of;
    case 'cadence':
      return (c.maxMeanGap ?? 3_600_000) * c.samples;
    case 'concurrency':
      return inflightTimeout + (c.sustain ?? 0);
  }
}

export function newConditionState(c: Condition): ConditionState {
  switch (c.kind) {
    case 'velocity':
      return newTimestamps();
    case 'distinct':
      return newDistinct();
    case 'throughput':
      return newBuckets(c.of);
    case 'cadence':
      return newCadence();
    case 'concurrency':
      return { since: null };
  }
}

/** Concurrency is tracked on every event of the account, matched or not, so a drop below the threshold resets it. */
export function trackConcurrency(c: Extract<Condition, { kind: 'concurrency' }>, s: { since: number | null }, o: Observation): void {
  if (o.inFlight >= c.threshold) s.since ??= o.ts;
  else s.since = null;
}

/** Adds a matching event to the condition's state and records in `v` whether the condition now holds. */
export function observe(c: Condition, state: ConditionState, o: Observation, v: Verdict): boolean {
  const { ts } = o;
  switch (c.kind) {
    case 'velocity': {
      const s = state as Timestamps;
      addTimestamp(s, ts, c.window, c.threshold + HEADROOM);
      const { count, end } = fullestWindowContaining(s, ts, c.window);
      return settle(v, count >= c.threshold, count, c.threshold, end - c.window, end);
    }
    case 'distinct': {
      const s = state as DistinctValues;
      const value = readField(o.event, ts, c.field);
      const newest = value === undefined ? newestOf(s) : addDistinct(s, String(value), ts, c.window, c.threshold + HEADROOM);
      const count = countDistinct(s, c.window, newest);
      v.accounts = count >= c.threshold && c.field === 'accountId' ? distinctInWindow(s, c.window, newest) : undefined;
      return settle(v, count >= c.threshold, count, c.threshold, newest - c.window, newest);
    }
    case 'throughput': {
      const s = state as Buckets;
      addToBuckets(s, ts, c.bucket);
      const busy = busyBuckets(s, ts, c.bucket, c.minEvents);
      const end = (Math.floor(ts / c.bucket) + 1) * c.bucket;
      return settle(v, busy >= c.atLeast, busy, c.atLeast, end - c.bucket * c.of, end);
    }
    case 'cadence': {
      const s = state as Cadence;
      addToCadence(s, ts, c.samples);
      if (s.gaps.length < c.samples) return settle(v, false, -1, c.maxCv, ts, ts);
      const stats = cadenceStats(s);
      const met = stats.cv <= c.maxCv && (c.maxMeanGap === undefined || stats.meanGap <= c.maxMeanGap);
      const cv = Number.isFinite(stats.cv) ? Math.round(stats.cv * 1000) / 1000 : -1;
      return settle(v, met, cv, c.maxCv, ts - stats.meanGap * stats.samples, ts);
    }
    case 'concurrency': {
      const s = state as { since: number | null };
      trackConcurrency(c, s, o);
      const met = s.since !== null && ts - s.since >= (c.sustain ?? 0);
      return settle(v, met, o.inFlight, c.threshold, s.since ?? ts, ts);
    }
  }
}
