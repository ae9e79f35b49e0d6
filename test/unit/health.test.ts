import { describe, expect, it } from 'vitest';
import { GenerationEventSchema, type GenerationEvent } from '../../src/contract/event.js';
import { SpeedDecision } from '../../src/contract/outputs.js';
import { HealthLimits, newHealth, type HealthState } from '../../src/engine/health.js';
import { Policy } from '../../src/policy/schema.js';
import { requiredOnly } from '../support/events.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const ENFORCEMENT = { lookback: '7d', pauseAt: 10, suspendAt: 30, probation: '90d' };
const QUOTA = { plans: {}, relaxedModels: [] };

function healthPolicy(health: unknown): Policy['health'] {
  return Policy.parse({ quota: QUOTA, enforcement: ENFORCEMENT, health }).health;
}

/** Cap 3 in flight for 2 minutes → capped for 30 minutes. 3+ requests in 2 of the last 3 hours → Relaxed for 2 hours. */
const policy = healthPolicy({
  concurrency: { cap: 3, sustain: '2m', cooldown: '30m' },
  sustained: { bucket: '1h', minEvents: 3, atLeast: 2, of: 3, throttle: '2h' },
});
const concurrencyOnly = healthPolicy({ concurrency: { cap: 3, sustain: '2m', cooldown: '30m' } });
const sustainedOnly = healthPolicy({ sustained: { bucket: '1h', minEvents: 3, atLeast: 2, of: 3, throttle: '2h' } });

/** An epoch-aligned hour, so hourly buckets line up with the offsets below. */
const T = Date.parse('2026-05-10T00:00:00Z');

let seq = 0;

function event(ts: number, over: Partial<GenerationEvent> = {}): GenerationEvent {
  seq++;
  return GenerationEventSchema.parse(requiredOnly({ eventId: `evt-${seq}`, occurredAt: new Date(ts).toISOString(), accountId: 'acct-1', requestId: `req-${seq}`, ...over }));
}

/** One account's health tracker: `at(ts, inFlight)` observes an event as the engine would after updating in-flight. */
function account(p: Policy['health'] = policy) {
  const limits = new HealthLimits(p);
  const state: HealthState = newHealth();
  const decisions: SpeedDecision[] = [];
  return {
    state,
    decisions,
    kinds: () => decisions.map((d) => d.kind),
    at(ts: number, inFlight: number, over: Partial<GenerationEvent> = {}) {
      limits.observe(state, event(ts, over), ts, inFlight, (d) => decisions.push(d));
      return this;
    },
  };
}

describe('HealthLimits', () => {
  it('is active when either limit is configured, and inactive with neither', () => {
    expect(new HealthLimits(policy).active).toBe(true);
    expect(new HealthLimits(concurrencyOnly).active).toBe(true);
    expect(new HealthLimits(sustainedOnly).active).toBe(true);
    expect(new HealthLimits(healthPolicy({})).active).toBe(false);
  });

  describe('concurrency cap', () => {
    it('does not fire before in-flight has stayed at the cap for `sustain`', () => {
      const a = account(concurrencyOnly).at(T, 3).at(T + 2 * MINUTE - 1, 3);
      expect(a.decisions).toEqual([]);
    });

    it('fires once in-flight has stayed at or above the cap for exactly `sustain`', () => {
      const a = account(concurrencyOnly).at(T, 3).at(T + MINUTE, 5).at(T + 2 * MINUTE, 4);
      expect(a.decisions).toHaveLength(1);
      const d = a.decisions[0]!;
      expect(SpeedDecision.parse(d)).toEqual(d);
      expect(d).toMatchObject({
        accountId: 'acct-1',
        kind: 'concurrency-cap',
        speed: 'fast',
        at: new Date(T + 2 * MINUTE).toISOString(),
        until: new Date(T + 2 * MINUTE + 30 * MINUTE).toISOString(),
        maxConcurrent: 3,
      });
    });

    it('never fires below the cap, however long', () => {
      const a = account(concurrencyOnly);
      for (let m = 0; m <= 60; m++) a.at(T + m * MINUTE, 2);
      expect(a.decisions).toEqual([]);
      expect(a.state.concurrentSince).toBeNull();
    });

    it('restarts the sustain period when in-flight drops below the cap', () => {
      const a = account(concurrencyOnly)
        .at(T, 3)
        .at(T + MINUTE, 2) // drops: reset
        .at(T + 90 * SECOND, 3) // at the cap again from here
        .at(T + 2 * MINUTE, 3); // 2 minutes after the first, but only 30 s into this run
      expect(a.decisions).toEqual([]);
      a.at(T + 90 * SECOND + 2 * MINUTE - 1, 3);
      expect(a.decisions).toEqual([]);
      a.at(T + 90 * SECOND + 2 * MINUTE, 3);
      expect(a.kinds()).toEqual(['concurrency-cap']);
    });

    it('respects the cooldown, then fires again if still sustained', () => {
      const a = account(concurrencyOnly).at(T, 3).at(T + 2 * MINUTE, 3);
      const firedAt = T + 2 * MINUTE;
      for (let m = 1; m < 30; m++) a.at(firedAt + m * MINUTE, 3);
      a.at(firedAt + 30 * MINUTE - 1, 3);
      expect(a.decisions).toHaveLength(1);
      a.at(firedAt + 30 * MINUTE, 3);
      expect(a.decisions.map((d) => d.at)).toEqual([new Date(firedAt).toISOString(), new Date(firedAt + 30 * MINUTE).toISOString()]);
    });

    it('after the cooldown, needs a new sustained period if in-flight dropped in between', () => {
      const a = account(concurrencyOnly).at(T, 3).at(T + 2 * MINUTE, 3);
      a.at(T + 10 * MINUTE, 0).at(T + 40 * MINUTE, 3).at(T + 41 * MINUTE, 3);
      expect(a.decisions).toHaveLength(1);
      a.at(T + 42 * MINUTE, 3);
      expect(a.decisions).toHaveLength(2);
    });

    it('gives a deterministic decisionId for the same account and time', () => {
      const ids = () => account(concurrencyOnly).at(T, 3).at(T + 2 * MINUTE, 3).decisions.map((d) => d.decisionId);
      expect(ids()).toEqual(ids());
      expect(ids()[0]).toMatch(/^spd_/);
    });
  });

  describe('sustained-activity throttle', () => {
    /** `n` requests spread over the hour starting `hour` hours after T. */
    function burst(a: ReturnType<typeof account>, hour: number, n: number, over: Partial<GenerationEvent> = {}) {
      for (let k = 0; k < n; k++) a.at(T + hour * HOUR + k * MINUTE, 0, over);
      return a;
    }

    it('does not fire with only one busy bucket', () => {
      const a = burst(account(sustainedOnly), 0, 20);
      expect(a.decisions).toEqual([]);
    });

    it('does not count a bucket with minEvents − 1 requests as busy', () => {
      const a = burst(burst(account(sustainedOnly), 0, 3), 1, 2);
      expect(a.decisions).toEqual([]);
    });

    it('fires at the request that makes `atLeast` of the last `of` buckets busy', () => {
      const a = burst(burst(account(sustainedOnly), 0, 3), 1, 2);
      a.at(T + HOUR + 30 * MINUTE, 0);
      expect(a.decisions).toHaveLength(1);
      const d = a.decisions[0]!;
      expect(SpeedDecision.parse(d)).toEqual(d);
      expect(d).toMatchObject({
        kind: 'sustained-activity',
        speed: 'relaxed',
        at: new Date(T + HOUR + 30 * MINUTE).toISOString(),
        until: new Date(T + HOUR + 30 * MINUTE + 2 * HOUR).toISOString(),
      });
    });

    it('counts busy buckets that are not adjacent within the last `of`', () => {
      const a = burst(burst(account(sustainedOnly), 0, 3), 2, 3);
      expect(a.kinds()).toEqual(['sustained-activity']);
    });

    it('forgets busy buckets older than the last `of`', () => {
      const a = burst(burst(account(sustainedOnly), 0, 3), 3, 3);
      expect(a.decisions).toEqual([]);
    });

    it('fires at most once per throttle period while activity stays high', () => {
      const a = account(sustainedOnly);
      for (let h = 0; h < 12; h++) burst(a, h, 10);
      const times = a.decisions.map((d) => Date.parse(d.at));
      // First at the 3rd request of hour 1, then at the first request at or after each `until`.
      expect(times).toEqual([T + HOUR + 2 * MINUTE, T + 3 * HOUR + 2 * MINUTE, T + 5 * HOUR + 2 * MINUTE, T + 7 * HOUR + 2 * MINUTE, T + 9 * HOUR + 2 * MINUTE, T + 11 * HOUR + 2 * MINUTE]);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(2 * HOUR);
    });

    it('counts only generation.requested events towards activity', () => {
      const a = account(sustainedOnly);
      for (const type of ['generation.started', 'generation.completed', 'generation.failed'] as const) {
        burst(a, 0, 5, { type });
        burst(a, 1, 5, { type });
      }
      expect(a.decisions).toEqual([]);
      expect(a.state.activity).toBeNull();
    });
  });

  describe('non-unlimited events', () => {
    it('are ignored by both limits and leave the state untouched', () => {
      const a = account();
      for (let m = 0; m <= 5 * 60; m++) a.at(T + m * MINUTE, 10, { unlimited: false });
      expect(a.decisions).toEqual([]);
      expect(a.state).toEqual(newHealth());
    });
  });

  it('emits both kinds independently when both limits are reached', () => {
    const a = account();
    for (let k = 0; k < 3; k++) a.at(T + k * MINUTE, 3);
    for (let k = 0; k < 3; k++) a.at(T + HOUR + k * MINUTE, 3);
    expect(a.decisions.map((d) => [d.kind, d.at])).toEqual([
      ['concurrency-cap', new Date(T + 2 * MINUTE).toISOString()],
      ['concurrency-cap', new Date(T + HOUR).toISOString()], // cooldown over, still at the cap since T
      ['sustained-activity', new Date(T + HOUR + 2 * MINUTE).toISOString()],
    ]);
  });
});
