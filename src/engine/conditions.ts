import { iso } from '../time/instant.js';
import type { GenerationEvent } from '../contract/event.js';
import type { ConditionEvidence } from '../contract/outputs.js';
import { readField } from '../rules/match.js';
import type { Condition } from '../rules/schema.js';
import { addToBuckets, busyBuckets, newBuckets, type Buckets } from './window/buckets.js';
import { addToCadence, cadenceStats, newCadence, type Cadence } from './window/cadence.js';
import { addDistinct, distinctInWindow, newDistinct, type DistinctValues } from './window/distinct.js';
import { addTimestamp, fullestWindowContaining, newTimestamps, type Timestamps } from './window/timestamps.js';

/** Per-key state of one condition; plain data so it snapshots as JSON. */
export type ConditionState = Timestamps | DistinctValues | Buckets | Cadence | { since: number | null };

export interface Observation {
  readonly event: GenerationEvent;
  readonly ts: number;
  /** Generations the event's account has in flight at `ts`. */
  readonly inFlight: number;
}

/** Outcome of a condition at one event; turned into evidence (ISO strings and all) only when a rule fires. */
export interface Verdict {
  readonly kind: Condition['kind'];
  readonly met: boolean;
  readonly observed: number;
  readonly threshold: number;
  readonly comparison: ConditionEvidence['comparison'];
  readonly from: number;
  readonly to: number;
  /** Accounts the condition saw on this key (distinct on accountId), to strike every account of a farm. */
  readonly accounts?: readonly string[];
}

export function evidenceOf(v: Verdict): ConditionEvidence {
  return { kind: v.kind, observed: v.observed, threshold: v.threshold, comparison: v.comparison, window: { from: iso(v.from), to: iso(v.to) } };
}

/** Extra values kept beyond a distinct threshold, so evidence can show how far over it a key went. */
const DISTINCT_HEADROOM = 8;

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

/** Adds a matching event to the condition's state and says whether the condition now holds. */
export function observe(c: Condition, state: ConditionState, o: Observation): Verdict {
  const { ts } = o;
  switch (c.kind) {
    case 'velocity': {
      const s = state as Timestamps;
      addTimestamp(s, ts, c.window, c.threshold);
      const { count, end } = fullestWindowContaining(s, ts, c.window);
      return {
        met: count >= c.threshold,
        kind: c.kind, observed: count, threshold: c.threshold, comparison: '>=', from: end - c.window, to: end,
      };
    }
    case 'distinct': {
      const s = state as DistinctValues;
      const value = readField(o.event, ts, c.field);
      if (value !== undefined) addDistinct(s, String(value), ts, c.window, c.threshold + DISTINCT_HEADROOM);
      const end = Math.max(ts, ...s.lastSeen);
      const seen = distinctInWindow(s, end, c.window);
      return {
        met: seen.length >= c.threshold,
        kind: c.kind, observed: seen.length, threshold: c.threshold, comparison: '>=', from: end - c.window, to: end,
        ...(c.field === 'accountId' ? { accounts: seen } : {}),
      };
    }
    case 'throughput': {
      const s = state as Buckets;
      addToBuckets(s, ts, c.bucket);
      const busy = busyBuckets(s, ts, c.bucket, c.minEvents);
      const end = (Math.floor(ts / c.bucket) + 1) * c.bucket;
      return {
        met: busy >= c.atLeast,
        kind: c.kind, observed: busy, threshold: c.atLeast, comparison: '>=', from: end - c.bucket * c.of, to: end,
      };
    }
    case 'cadence': {
      const s = state as Cadence;
      addToCadence(s, ts, c.samples);
      const stats = cadenceStats(s);
      const span = stats.meanGap * stats.samples;
      const met =
        stats.samples >= c.samples && stats.cv <= c.maxCv && (c.maxMeanGap === undefined || stats.meanGap <= c.maxMeanGap);
      return {
        met,
        kind: c.kind,
        observed: Number.isFinite(stats.cv) ? Math.round(stats.cv * 1000) / 1000 : -1,
        threshold: c.maxCv,
        comparison: '<=',
        from: ts - span,
        to: ts,
      };
    }
    case 'concurrency': {
      const s = state as { since: number | null };
      trackConcurrency(c, s, o);
      const held = s.since === null ? 0 : ts - s.since;
      return {
        met: s.since !== null && held >= (c.sustain ?? 0),
        kind: c.kind, observed: o.inFlight, threshold: c.threshold, comparison: '>=', from: s.since ?? ts, to: ts,
      };
    }
  }
}
