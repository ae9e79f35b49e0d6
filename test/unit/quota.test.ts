import { describe, expect, it } from 'vitest';
import { GenerationEventSchema, type GenerationEvent } from '../../src/contract/event.js';
import { SpeedDecision } from '../../src/contract/outputs.js';
import { DailyFastQuota, type QuotaState } from '../../src/engine/quota.js';
import { Policy } from '../../src/policy/schema.js';
import { requiredOnly } from '../support/events.js';

const policy = Policy.parse({
  quota: {
    plans: {
      basic: { image: 3, video: 2 },
      pro: { image: 5 }, // no video limit
    },
    relaxedModels: ['imagine-4', 'motion-2'],
  },
  enforcement: { lookback: '7d', pauseAt: 10, suspendAt: 30, probation: '90d' },
});

const RELAXED_IMAGE = 'imagine-4';
const NO_RELAXED_IMAGE = 'imagine-4-ultra';

let seq = 0;

/** A valid `generation.requested` event for an Unlimited Fast image on the basic plan, unless overridden. */
function request(occurredAt: string, over: Partial<GenerationEvent> = {}): GenerationEvent {
  seq++;
  return GenerationEventSchema.parse(requiredOnly({ eventId: `evt-${seq}`, occurredAt, accountId: 'acct-1', requestId: `req-${seq}`, plan: 'basic', model: RELAXED_IMAGE, ...over }));
}

/** One account's quota tracker, fed events in arrival order, collecting its decisions. */
function account() {
  const quota = new DailyFastQuota(policy.quota);
  let state: QuotaState | undefined;
  const decisions: SpeedDecision[] = [];
  return {
    decisions,
    get state() {
      return state;
    },
    feed(...events: GenerationEvent[]) {
      for (const e of events) state = quota.observe(state, e, Date.parse(e.occurredAt), (d) => decisions.push(d));
      return this;
    },
  };
}

/** `n` requests one minute apart from `firstAt`. */
function requests(n: number, firstAt: string, over: Partial<GenerationEvent> = {}): GenerationEvent[] {
  const t0 = Date.parse(firstAt);
  return Array.from({ length: n }, (_, i) => request(new Date(t0 + i * 60_000).toISOString(), over));
}

describe('DailyFastQuota', () => {
  it('emits nothing at N − 1 Fast requests', () => {
    const a = account().feed(...requests(2, '2026-05-10T10:00:00Z'));
    expect(a.decisions).toEqual([]);
    expect(a.state?.image).toBe(2);
  });

  it('reaches the limit at exactly the N-th request and moves a Relaxed-capable model to Relaxed', () => {
    const a = account().feed(...requests(3, '2026-05-10T10:00:00Z'));
    expect(a.decisions).toHaveLength(1);
    const d = a.decisions[0]!;
    expect(SpeedDecision.parse(d)).toEqual(d);
    expect(d).toMatchObject({
      accountId: 'acct-1',
      kind: 'daily-fast-quota',
      speed: 'relaxed',
      at: '2026-05-10T10:02:00.000Z',
      until: '2026-05-11T00:00:00.000Z',
      tool: 'image',
      model: RELAXED_IMAGE,
      used: 3,
      limit: 3,
      localDate: '2026-05-10',
      timezone: 'UTC',
    });
  });

  it('blocks a model without a Relaxed queue, with the same `until` as the Relaxed decision', () => {
    const a = account().feed(
      ...requests(3, '2026-05-10T10:00:00Z'),
      request('2026-05-10T11:00:00Z', { model: NO_RELAXED_IMAGE }),
    );
    expect(a.decisions.map((d) => [d.speed, d.model, d.used])).toEqual([
      ['relaxed', RELAXED_IMAGE, 3],
      ['blocked', NO_RELAXED_IMAGE, 4],
    ]);
    expect(a.decisions[1]!.until).toBe(a.decisions[0]!.until);
  });

  it('blocks at the N-th request when that request is for a model without Relaxed', () => {
    const a = account().feed(
      ...requests(2, '2026-05-10T10:00:00Z'),
      request('2026-05-10T10:05:00Z', { model: NO_RELAXED_IMAGE }),
    );
    expect(a.decisions).toHaveLength(1);
    expect(a.decisions[0]).toMatchObject({ speed: 'blocked', used: 3, until: '2026-05-11T00:00:00.000Z' });
  });

  it('sets `until` to the next local midnight of the event timezone: Tokyo and New York differ for the same instant', () => {
    const instant = '2026-05-10T12:00:00Z'; // 21:00 in Tokyo, 08:00 in New York
    const tokyo = account().feed(...requests(3, instant, { timezone: 'Asia/Tokyo' }));
    const newYork = account().feed(...requests(3, instant, { timezone: 'America/New_York' }));
    const utc = account().feed(...requests(3, instant));
    expect(tokyo.decisions[0]).toMatchObject({ until: '2026-05-10T15:00:00.000Z', localDate: '2026-05-10', timezone: 'Asia/Tokyo' });
    expect(newYork.decisions[0]).toMatchObject({ until: '2026-05-11T04:00:00.000Z', localDate: '2026-05-10', timezone: 'America/New_York' });
    expect(utc.decisions[0]).toMatchObject({ until: '2026-05-11T00:00:00.000Z', localDate: '2026-05-10', timezone: 'UTC' });
  });

  it('resets the count at local midnight, not UTC midnight (Tokyo: 15:00Z)', () => {
    const tz = { timezone: 'Asia/Tokyo' };
    const a = account().feed(
      request('2026-05-10T14:58:00Z', tz), // 23:58 local
      request('2026-05-10T14:59:59.999Z', tz), // 23:59:59.999 local
      request('2026-05-10T15:00:00Z', tz), // 00:00 local, 2026-05-11: a new day
    );
    expect(a.decisions).toEqual([]);
    expect(a.state).toMatchObject({ date: '2026-05-11', image: 1 });
  });

  it('does not reset the count at UTC midnight when the local day goes on (New York)', () => {
    const tz = { timezone: 'America/New_York' };
    const a = account().feed(
      request('2026-05-10T23:30:00Z', tz), // 19:30 local
      request('2026-05-11T00:00:00Z', tz), // 20:00 local
      request('2026-05-11T00:30:00Z', tz), // 20:30 local
    );
    expect(a.decisions).toHaveLength(1);
    expect(a.decisions[0]).toMatchObject({ localDate: '2026-05-10', until: '2026-05-11T04:00:00.000Z', used: 3 });
  });

  it('on the 25-hour fall-back day (New York 2026-11-01) counts the whole day and lifts the limit at the next local midnight', () => {
    const tz = { timezone: 'America/New_York' };
    const a = account().feed(
      request('2026-11-01T04:00:00Z', tz), // 00:00 EDT
      request('2026-11-01T06:30:00Z', tz), // the second 01:30
      request('2026-11-02T04:59:59Z', tz), // 23:59:59 EST, 24h59m59s after the day started
    );
    expect(a.decisions).toHaveLength(1);
    expect(a.decisions[0]).toMatchObject({ localDate: '2026-11-01', until: '2026-11-02T05:00:00.000Z' });
    a.feed(request('2026-11-02T05:00:00Z', tz));
    expect(a.state).toMatchObject({ date: '2026-11-02', image: 1 });
  });

  it('on the 23-hour spring-forward day (New York 2026-03-08) the limit lifts 23 hours after it started', () => {
    const a = account().feed(...requests(3, '2026-03-08T05:00:00Z', { timezone: 'America/New_York' }));
    expect(a.decisions[0]).toMatchObject({ localDate: '2026-03-08', until: '2026-03-09T04:00:00.000Z' });
  });

  it('counts only Unlimited, Fast, generation.requested events', () => {
    const a = account().feed(
      request('2026-05-10T10:00:00Z', { unlimited: false }),
      request('2026-05-10T10:01:00Z', { speed: 'relaxed' }),
      request('2026-05-10T10:02:00Z', { type: 'generation.started' }),
      request('2026-05-10T10:03:00Z', { type: 'generation.completed' }),
      request('2026-05-10T10:04:00Z', { type: 'generation.failed' }),
      request('2026-05-10T10:05:00Z'),
      request('2026-05-10T10:06:00Z'),
    );
    expect(a.decisions).toEqual([]);
    expect(a.state?.image).toBe(2);
    a.feed(request('2026-05-10T10:07:00Z'));
    expect(a.decisions.map((d) => d.used)).toEqual([3]);
  });

  it('ignores events that do not count without even creating state', () => {
    const a = account().feed(request('2026-05-10T10:00:00Z', { unlimited: false }), request('2026-05-10T10:00:00Z', { speed: 'relaxed' }));
    expect(a.state).toBeUndefined();
  });

  it('never decides for a plan without a limit', () => {
    const a = account().feed(...requests(50, '2026-05-10T10:00:00Z', { plan: 'enterprise' }));
    expect(a.decisions).toEqual([]);
    expect(a.state).toBeUndefined();
  });

  it('never decides for a tool the plan has no limit for', () => {
    const a = account().feed(...requests(50, '2026-05-10T10:00:00Z', { plan: 'pro', tool: 'video', model: 'motion-2' }));
    expect(a.decisions).toEqual([]);
  });

  it('makes each decision once per local day per tool:speed', () => {
    const a = account().feed(
      ...requests(6, '2026-05-10T10:00:00Z'),
      ...requests(3, '2026-05-10T12:00:00Z', { model: NO_RELAXED_IMAGE }),
      ...requests(2, '2026-05-10T13:00:00Z'),
    );
    expect(a.decisions.map((d) => `${d.tool}:${d.speed}`)).toEqual(['image:relaxed', 'image:blocked']);
  });

  it('decides again on the next local day', () => {
    const a = account().feed(...requests(4, '2026-05-10T10:00:00Z'), ...requests(4, '2026-05-11T10:00:00Z'));
    expect(a.decisions.map((d) => d.localDate)).toEqual(['2026-05-10', '2026-05-11']);
    expect(a.decisions[0]!.decisionId).not.toBe(a.decisions[1]!.decisionId);
  });

  it('counts image and video separately, each against its own limit', () => {
    const video = { tool: 'video' as const, model: 'motion-2' };
    const a = account().feed(
      request('2026-05-10T10:00:00Z'),
      request('2026-05-10T10:01:00Z'),
      request('2026-05-10T10:02:00Z', video),
    );
    expect(a.decisions).toEqual([]);
    a.feed(request('2026-05-10T10:03:00Z', video));
    expect(a.decisions.map((d) => [d.tool, d.used, d.limit])).toEqual([['video', 2, 2]]);
    a.feed(request('2026-05-10T10:04:00Z'));
    expect(a.decisions.map((d) => [d.tool, d.used, d.limit])).toEqual([
      ['video', 2, 2],
      ['image', 3, 3],
    ]);
    expect(a.state).toMatchObject({ image: 3, video: 2 });
  });

  it('does not count a late event from a local day already closed', () => {
    const a = account().feed(
      request('2026-05-11T00:01:00Z'),
      request('2026-05-10T23:59:00Z'), // late, from 2026-05-10
      request('2026-05-11T00:02:00Z'),
    );
    expect(a.decisions).toEqual([]);
    expect(a.state).toMatchObject({ date: '2026-05-11', image: 2 });
  });

  it('derives decisionId deterministically from account, local date and tool:speed', () => {
    const replay = () =>
      account()
        .feed(...requests(3, '2026-05-10T10:00:00Z'), request('2026-05-10T11:00:00Z', { model: NO_RELAXED_IMAGE }))
        .decisions.map((d) => d.decisionId);
    const first = replay();
    expect(replay()).toEqual(first);
    expect(new Set(first).size).toBe(2);
    // The same day's relaxed decision for another account, or reached at another moment, keeps to its own id.
    const other = account().feed(...requests(3, '2026-05-10T10:00:00Z', { accountId: 'acct-2' })).decisions[0]!;
    expect(other.decisionId).not.toBe(first[0]);
    const later = account().feed(...requests(3, '2026-05-10T20:00:00Z')).decisions[0]!;
    expect(later.decisionId).toBe(first[0]);
  });

  it('does not reset the count when the timezone field alternates between values naming the same local day', () => {
    // In January, Europe/London is UTC+0: its local days are exactly the UTC days. An account whose clients alternate
    // between sending `timezone: Europe/London` and omitting it (UTC) is still on one local day and must hit its limit.
    const a = account().feed(
      request('2026-01-15T10:00:00Z', { timezone: 'Europe/London' }),
      request('2026-01-15T10:01:00Z'),
      request('2026-01-15T10:02:00Z', { timezone: 'Europe/London' }),
      request('2026-01-15T10:03:00Z'),
    );
    expect(a.decisions.map((d) => [d.speed, d.localDate])).toEqual([['relaxed', '2026-01-15']]);
  });
});
