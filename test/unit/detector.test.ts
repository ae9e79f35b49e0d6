import { describe, expect, it } from 'vitest';
import type { Strike } from '../../src/contract/outputs.js';
import type { TimedEvent } from '../../src/contract/parse.js';
import { Pipeline } from '../../src/engine/pipeline.js';
import type { RuleSet } from '../../src/rules/ruleset.js';
import { ev, rulesFrom, testPolicy } from '../support/events.js';

function rule(body: string, extra = ''): RuleSet {
  return rulesFrom(`
rules:
  - id: r1
    description: test rule
    severity: high
    mode: enforce
    owner: test
    cooldown: 1h
    strike: { points: 1, reason: "observed {{velocity.observed}}" }
${body
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
${extra}`);
}

function run(rules: RuleSet, events: TimedEvent[]) {
  const strikes: Strike[] = [];
  const shadow: Strike[] = [];
  const p = new Pipeline(rules, testPolicy(), {
    strike: (s) => strikes.push(s),
    shadowStrike: (s) => shadow.push(s),
    transition: () => {},
    speed: () => {},
  });
  const admissions = events.map((e) => p.ingest(e));
  return { strikes, shadow, admissions, pipeline: p };
}

const velocity = rule(`match: [{ field: type, op: equals, value: generation.requested }]
conditions: [{ kind: velocity, window: 60s, threshold: 5 }]`);

describe('velocity', () => {
  it('does not strike at N-1 events in the window', () => {
    const { strikes } = run(velocity, [0, 10, 20, 30].map((s) => ev(s)));
    expect(strikes).toHaveLength(0);
  });

  it('strikes at the Nth event in the window, with evidence', () => {
    const { strikes } = run(velocity, [0, 10, 20, 30, 40].map((s) => ev(s)));
    expect(strikes).toHaveLength(1);
    expect(strikes[0]!.evidence.conditions[0]).toMatchObject({ kind: 'velocity', observed: 5, threshold: 5 });
    expect(strikes[0]!.reason).toBe('observed 5');
    expect(strikes[0]!.evidence.sampleEventIds.length).toBeGreaterThan(0);
  });

  it('an event exactly one window old is outside the window', () => {
    expect(run(velocity, [0, 15, 30, 45, 60].map((s) => ev(s))).strikes).toHaveLength(0);
    expect(run(velocity, [0.001, 15, 30, 45, 60].map((s) => ev(s))).strikes).toHaveLength(1);
  });

  it('ignores events the match filter excludes', () => {
    const events = [0, 1, 2, 3, 4].map((s) => ev(s, { type: 'generation.completed' }));
    expect(run(velocity, events).strikes).toHaveLength(0);
  });

  it('counts a late event (within allowed lateness) in the window it belongs to', () => {
    // Arrival order 0,10,20,40 then the late 30: the window ending at 40 now holds five events.
    const events = [ev(0), ev(10), ev(20), ev(40), ev(30)];
    const { strikes, admissions } = run(velocity, events);
    expect(admissions).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted']);
    expect(strikes).toHaveLength(1);
  });

  it('sets aside an event later than the allowed lateness, and accepts one exactly at it', () => {
    // Allowed lateness is 5m: after an event at 400s the watermark is 100s.
    const { admissions } = run(velocity, [ev(400), ev(100), ev(99.999)]);
    expect(admissions).toEqual(['accepted', 'accepted', 'late']);
  });

  it('counts a redelivered eventId once', () => {
    const events = [ev(0), ev(10), ev(20), ev(30)];
    const dup = events[3]!;
    const { strikes, admissions } = run(velocity, [...events, dup]);
    expect(admissions.at(-1)).toBe('duplicate');
    expect(strikes).toHaveLength(0);
  });

  it('cooldown stops the rule striking the same account again for the same behaviour', () => {
    const burst = (start: number) => Array.from({ length: 10 }, (_, i) => ev(start + i));
    const { strikes } = run(velocity, [...burst(0), ...burst(1800), ...burst(3700)]);
    expect(strikes.map((s) => s.at)).toEqual(['2026-11-02T00:00:04.000Z', '2026-11-02T01:01:44.000Z']);
  });

  it('gives the same strikeIds when the same input is replayed', () => {
    const events = [0, 10, 20, 30, 40].map((s) => ev(s));
    const a = run(velocity, events).strikes.map((s) => s.strikeId);
    const b = run(velocity, events).strikes.map((s) => s.strikeId);
    expect(a).toHaveLength(1);
    expect(b).toEqual(a);
  });

  it('keys are independent: two accounts each below the threshold do not add up', () => {
    const events = [0, 1, 2, 3, 4, 5, 6, 7].map((s) => ev(s, { accountId: s % 2 ? 'acc-a' : 'acc-b' }));
    expect(run(velocity, events).strikes).toHaveLength(0);
  });
});

describe('concurrency', () => {
  const concurrency = rule(`match: [{ field: type, op: equals, value: generation.requested }]
conditions: [{ kind: concurrency, threshold: 3, sustain: 60s }]`);

  it('strikes when N generations stay in flight for the sustain duration', () => {
    const events = [ev(0, { requestId: 'a' }), ev(1, { requestId: 'b' }), ev(2, { requestId: 'c' }), ev(62, { requestId: 'd' })];
    const { strikes } = run(concurrency, events);
    expect(strikes).toHaveLength(1);
    expect(strikes[0]!.evidence.conditions[0]).toMatchObject({ kind: 'concurrency', observed: 4, threshold: 3 });
  });

  it('does not strike when completions bring the count below N in between', () => {
    const events = [
      ev(0, { requestId: 'a' }),
      ev(1, { requestId: 'b' }),
      ev(2, { requestId: 'c' }),
      ev(30, { requestId: 'a', type: 'generation.completed' }),
      ev(61, { requestId: 'd' }),
      ev(62, { requestId: 'e' }),
    ];
    expect(run(concurrency, events).strikes).toHaveLength(0);
  });

  it('a request never completed stops counting after the in-flight timeout', () => {
    const events = [ev(0, { requestId: 'a' }), ev(1, { requestId: 'b' }), ev(1000, { requestId: 'c' }), ev(1100, { requestId: 'd' })];
    expect(run(concurrency, events).strikes).toHaveLength(0);
  });

  it('failed generations end their flight too', () => {
    const events = [
      ev(0, { requestId: 'a' }),
      ev(1, { requestId: 'b' }),
      ev(2, { requestId: 'a', type: 'generation.failed' }),
      ev(3, { requestId: 'c' }),
      ev(70, { requestId: 'd' }),
    ];
    // in flight: b, c, d = 3 from t=70 only: not sustained yet
    expect(run(concurrency, events).strikes).toHaveLength(0);
  });
});

describe('fan-out', () => {
  const devices = rule(`conditions: [{ kind: distinct, field: deviceId, window: 1h, threshold: 3 }]`);

  it('strikes an account used from N distinct devices within the window', () => {
    const events = ['d1', 'd2', 'd1', 'd3'].map((d, i) => ev(i * 60, { deviceId: d }));
    const { strikes } = run(devices, events);
    expect(strikes).toHaveLength(1);
    expect(strikes[0]!.at).toBe('2026-11-02T00:03:00.000Z');
  });

  it('does not strike when the devices are spread wider than the window', () => {
    const events = ['d1', 'd2', 'd3'].map((d, i) => ev(i * 1800 + (i === 2 ? 1 : 0), { deviceId: d }));
    expect(run(devices, events).strikes).toHaveLength(0);
  });

  const farm = rulesFrom(`
lists:
  nat: { kind: cidr, items: [100.64.0.0/10] }
rules:
  - id: farm
    description: accounts per device
    severity: high
    mode: enforce
    owner: test
    groupBy: deviceId
    match: [{ field: ip, op: not-in-cidr, value: $nat }]
    conditions: [{ kind: distinct, field: accountId, window: 1d, threshold: 3 }]
    strike: { points: 5, reason: "device {{key}} has {{distinct.observed}} accounts" }
    cooldown: 1d
`);

  it('strikes every account of a farm sharing one device, each once', () => {
    const events = ['a', 'b', 'c', 'a', 'd'].map((acc, i) => ev(i * 60, { accountId: acc, deviceId: 'shared' }));
    const { strikes } = run(farm, events);
    expect(strikes.map((s) => s.accountId).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(strikes[0]!.key).toEqual({ field: 'deviceId', value: 'shared' });
    expect(strikes[0]!.reason).toBe('device shared has 3 accounts');
  });

  it('spares allow-listed IP ranges', () => {
    const events = ['a', 'b', 'c'].map((acc, i) => ev(i, { accountId: acc, deviceId: 'shared', ip: `100.64.0.${i + 1}` }));
    expect(run(farm, events).strikes).toHaveLength(0);
  });

  it('skips events without the grouping field', () => {
    const events = ['a', 'b', 'c'].map((acc, i) => {
      const e = ev(i, { accountId: acc });
      delete (e.event as { deviceId?: string }).deviceId;
      return e;
    });
    expect(run(farm, events).strikes).toHaveLength(0);
  });
});

describe('sustained throughput', () => {
  const throughput = rule(`conditions: [{ kind: throughput, bucket: 1h, minEvents: 2, atLeast: 3, of: 4 }]`);

  it('strikes when K of the last M buckets are busy', () => {
    const events = [0, 1, 3600, 3601, 7200, 7201].map((s) => ev(s));
    const { strikes } = run(throughput, events);
    expect(strikes).toHaveLength(1);
    expect(strikes[0]!.evidence.conditions[0]).toMatchObject({ observed: 3, threshold: 3 });
  });

  it('does not strike when a busy bucket fell out of the last M', () => {
    const events = [0, 1, 3600, 3601, 4 * 3600, 4 * 3600 + 1].map((s) => ev(s));
    expect(run(throughput, events).strikes).toHaveLength(0);
  });
});

describe('cadence', () => {
  const cadence = rule(`conditions: [{ kind: cadence, samples: 5, maxCv: 0.1 }]`);

  it('strikes metronomic requests', () => {
    const events = [0, 30, 60.5, 90, 120.2, 150].map((s) => ev(s));
    const { strikes } = run(cadence, events);
    expect(strikes).toHaveLength(1);
    expect(strikes[0]!.evidence.conditions[0]!.comparison).toBe('<=');
  });

  it('needs the full number of gaps', () => {
    expect(run(cadence, [0, 30, 60, 90, 120].map((s) => ev(s))).strikes).toHaveLength(0);
  });

  it('spares irregular, human gaps', () => {
    expect(run(cadence, [0, 5, 90, 100, 400, 410, 1000].map((s) => ev(s))).strikes).toHaveLength(0);
  });
});

describe('composition and modes', () => {
  it('a rule with several conditions strikes only when all hold together', () => {
    const both = rule(`conditions:
  - { kind: velocity, window: 60s, threshold: 3 }
  - { kind: distinct, field: deviceId, window: 60s, threshold: 2 }`);
    expect(run(both, [0, 1, 2].map((s) => ev(s))).strikes).toHaveLength(0);
    expect(run(both, [0, 1, 2].map((s, i) => ev(s, { deviceId: `d${i}` }))).strikes).toHaveLength(1);
  });

  it('shadow rules emit would-be strikes that never reach enforcement', () => {
    const shadowRule = rulesFrom(`
rules:
  - { id: s1, description: d, severity: low, mode: shadow, owner: t, cooldown: 1m,
      conditions: [{ kind: velocity, window: 60s, threshold: 1 }], strike: { points: 50, reason: r } }
`);
    const { strikes, shadow, pipeline } = run(shadowRule, [ev(0)]);
    expect(strikes).toHaveLength(0);
    expect(shadow).toHaveLength(1);
    expect(shadow[0]!.mode).toBe('shadow');
    expect(pipeline.standings.status('acc-1')).toBe('active');
  });

  it('rules in mode off never run', () => {
    const off = rulesFrom(`
rules:
  - { id: o1, description: d, severity: low, mode: off, owner: t, cooldown: 1m,
      conditions: [{ kind: velocity, window: 60s, threshold: 1 }], strike: { points: 50, reason: r } }
`);
    const { strikes, shadow } = run(off, [ev(0)]);
    expect(strikes.length + shadow.length).toBe(0);
  });

  it('stamps the rule content hash on strikes', () => {
    const { strikes } = run(velocity, [0, 1, 2, 3, 4].map((s) => ev(s)));
    expect(strikes[0]!.ruleVersion).toBe(velocity.rules[0]!.version);
  });
});

describe('snapshot and restore', () => {
  it('a pipeline restored mid-stream decides exactly as one that never stopped', () => {
    const events = Array.from({ length: 200 }, (_, i) =>
      ev(i * 7, { accountId: `acc-${i % 3}`, deviceId: `d-${i % 5}`, requestId: `r-${Math.floor(i / 2)}`, type: i % 2 ? 'generation.completed' : 'generation.requested' }),
    );
    const rules = rule(`conditions: [{ kind: velocity, window: 60s, threshold: 3 }]`, '');
    const whole = run(rules, events);

    const first = run(rules, events.slice(0, 120));
    const snapshot = JSON.parse(JSON.stringify(first.pipeline.snapshot()));
    const rest = run(rules, []);
    rest.pipeline.restore(snapshot);
    for (const e of events.slice(120)) rest.pipeline.ingest(e);
    const resumed = [...first.strikes, ...rest.strikes];
    expect(whole.strikes.length).toBeGreaterThan(2);
    // Whole strikes, evidence and sample eventIds included: the restored sample ring continues in order.
    expect(resumed).toEqual(whole.strikes);
  });
});

describe('lifecycle out of order', () => {
  it('a completion delivered before its request does not leave the request in flight', () => {
    const concurrency = rule(`conditions: [{ kind: concurrency, threshold: 2, sustain: 60s }]`);
    const events = [
      ev(0, { requestId: 'a', type: 'generation.completed' }),
      ev(0.5, { requestId: 'b' }),
      ev(-1, { requestId: 'a' }), // the late request of the completion above
      ev(120, { requestId: 'c', type: 'generation.started' }),
    ];
    expect(run(concurrency, events).strikes).toHaveLength(0);
  });
});

describe('rule reload', () => {
  const base = (threshold: number, points = 1) =>
    rulesFrom(`
rules:
  - { id: v, description: d, severity: low, mode: enforce, owner: t, cooldown: 1h,
      conditions: [{ kind: velocity, window: 60s, threshold: ${threshold} }], strike: { points: ${points}, reason: r } }
`);

  it('keeps window state of a rule whose windows did not change', () => {
    const { pipeline, strikes } = run(base(3), [ev(0), ev(1)]);
    pipeline.detection.replaceRules(base(3, 7)); // only the points changed
    pipeline.ingest(ev(2));
    expect(strikes.map((s) => s.points)).toEqual([7]);
  });

  it('starts afresh a rule whose window changed', () => {
    const reset = run(base(3), [ev(0), ev(1)]);
    reset.pipeline.detection.replaceRules(base(4));
    reset.pipeline.ingest(ev(2));
    reset.pipeline.ingest(ev(3));
    expect(reset.strikes).toHaveLength(0); // the new rule has seen 2 events, not 4
    reset.pipeline.ingest(ev(4));
    reset.pipeline.ingest(ev(5));
    expect(reset.strikes).toHaveLength(1);
  });

  it('traces every matching event with its condition values, struck accounts and cooldowns', () => {
    const { pipeline } = run(base(2), []);
    const traces: Array<{ met: boolean; observed: number; struck: readonly string[]; inCooldown: readonly string[] }> = [];
    pipeline.detection.tracer = (t) => traces.push({ met: t.met, observed: t.conditions[0]!.observed, struck: t.struck, inCooldown: t.inCooldown });
    for (const s of [0, 1, 2]) pipeline.ingest(ev(s));
    expect(traces).toEqual([
      { met: false, observed: 1, struck: [], inCooldown: [] },
      { met: true, observed: 2, struck: ['acc-1'], inCooldown: [] },
      { met: true, observed: 3, struck: [], inCooldown: ['acc-1'] },
    ]);
  });
});

