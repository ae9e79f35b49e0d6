import { BEGINNING, iso } from '../time/instant.js';
import type { GenerationEvent } from '../contract/event.js';
import type { SpeedDecision } from '../contract/outputs.js';
import type { Policy } from '../policy/schema.js';
import { deterministicId } from './ids.js';
import { addToBuckets, busyBuckets, newBuckets, type Buckets } from './window/buckets.js';

/** One account's progress towards the policy's health limits. */
export interface HealthState {
  concurrentSince: number | null;
  cappedUntil: number;
  activity: Buckets | null;
  throttledUntil: number;
}

export function newHealth(): HealthState {
  return { concurrentSince: null, cappedUntil: BEGINNING, activity: null, throttledUntil: BEGINNING };
}

/**
 * Health limits protect capacity, not the policy: a concurrency cap after sustained parallel use and a throttle to
 * Relaxed after sustained high activity. They are speed decisions, never strikes.
 */
export class HealthLimits {
  constructor(private readonly policy: Policy['health']) {}

  get active(): boolean {
    return this.policy.concurrency !== undefined || this.policy.sustained !== undefined;
  }

  observe(s: HealthState, event: GenerationEvent, ts: number, inFlight: number, emit: (d: SpeedDecision) => void): void {
    if (!event.unlimited) return;
    const cap = this.policy.concurrency;
    if (cap) {
      if (inFlight < cap.cap) s.concurrentSince = null;
      else {
        s.concurrentSince ??= ts;
        if (ts - s.concurrentSince >= cap.sustain && ts >= s.cappedUntil) {
          s.cappedUntil = ts + cap.cooldown;
          emit({
            decisionId: deterministicId('spd', event.accountId, 'concurrency-cap', ts),
            accountId: event.accountId,
            kind: 'concurrency-cap',
            speed: 'fast',
            at: iso(ts),
            until: iso(s.cappedUntil),
            reason: `${inFlight} generations in flight for ${Math.round((ts - s.concurrentSince) / 1000)}s; concurrency capped at ${cap.cap}`,
            maxConcurrent: cap.cap,
          });
        }
      }
    }
    const sustained = this.policy.sustained;
    if (sustained && event.type === 'generation.requested') {
      s.activity ??= newBuckets(sustained.of);
      addToBuckets(s.activity, ts, sustained.bucket);
      const busy = busyBuckets(s.activity, ts, sustained.bucket, sustained.minEvents);
      if (busy >= sustained.atLeast && ts >= s.throttledUntil) {
        s.throttledUntil = ts + sustained.throttle;
        emit({
          decisionId: deterministicId('spd', event.accountId, 'sustained-activity', ts),
          accountId: event.accountId,
          kind: 'sustained-activity',
          speed: 'relaxed',
          at: iso(ts),
          until: iso(s.throttledUntil),
          reason: `${busy} of the last ${sustained.of} periods had ${sustained.minEvents}+ requests; speed reduced to Relaxed`,
        });
      }
    }
  }
}
