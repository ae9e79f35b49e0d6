import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expandCase, ExpandError } from '../../src/rules/cases/expand.js';
import { loadTests, type LoadedCase } from '../../src/rules/cases/load.js';
import { formatCaseResults } from '../../src/rules/cases/report.js';
import { runCase } from '../../src/rules/cases/run.js';
import { TestCase, type EventOverrides } from '../../src/rules/cases/schema.js';
import { loadPolicyFile } from '../../src/rules/pack.js';
import { validateDir } from '../../src/rules/validate.js';
import { rulesFrom, testPolicy } from '../support/events.js';

const PACK = fileURLToPath(new URL('../../rules', import.meta.url));

function expand(spec: unknown, defaults?: EventOverrides) {
  return expandCase(TestCase.parse(spec), defaults, 1).events;
}
const base = { name: 'c', expect: { noStrikes: [{ rule: 'burst' }] } };
const at = (ts: number) => new Date(ts).toISOString();

describe('compact event sequences', () => {
  it('fills in a valid event from defaults, one device and IP per account', () => {
    const [a, b] = expand({ ...base, events: [{ event: { accountId: 'a1' } }, { event: { accountId: 'a2' } }] });
    expect(a!.event).toMatchObject({ type: 'generation.requested', accountId: 'a1', deviceId: 'dev-a1', plan: 'unlimited', unlimited: true, tool: 'image', speed: 'fast', occurredAt: '2026-11-02T00:00:00.000Z' });
    expect(a!.event.ip).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(b!.event.ip).not.toBe(a!.event.ip);
    expect(new Set([a!.event.eventId, b!.event.eventId, a!.event.requestId, b!.event.requestId]).size).toBe(4);
  });

  it('layers file defaults, case defaults and item fields; null removes a field', () => {
    const [e] = expand({ ...base, defaults: { tool: 'video', country: 'JP' }, events: [{ event: { country: null, deviceId: null } }] }, { plan: 'pro', tool: 'image' });
    expect(e!.event).toMatchObject({ plan: 'pro', tool: 'video' });
    expect(e!.event).not.toHaveProperty('country');
    expect(e!.event).not.toHaveProperty('deviceId');
  });

  it('times: absolute, relative to the previous item, a repeat from a time, and sorted for delivery', () => {
    const events = expand({
      ...base,
      start: '2026-11-02T10:00:00Z',
      events: [{}, { at: '+5m' }, { at: '-1m' }, { repeat: { every: '30s', times: 3, from: '+1h' } }, { at: '2026-11-02T09:00:00Z' }],
    });
    const t0 = Date.parse('2026-11-02T10:00:00Z');
    expect(events.map((e) => e.ts)).toEqual([t0 - 3_600_000, t0, t0 + 240_000, t0 + 300_000, t0 + 240_000 + 3_600_000, t0 + 240_000 + 3_630_000, t0 + 240_000 + 3_660_000].sort((a, b) => a - b));
    expect(events.map((e) => e.event.occurredAt)).toContain(at(t0 + 300_000));
  });

  it('repeats cycle devices, accounts and any field, and replace {i} with the index', () => {
    const events = expand({ ...base, events: [{ repeat: { every: '1m', times: 4, devices: ['d1', 'd2'], accounts: ['a', 'b', 'c'], cycle: { country: ['JP', 'FR'] }, event: { requestId: 'req-{i}', model: 'm{i}{i}' } } }] });
    expect(events.map((e) => [e.event.deviceId, e.event.accountId, e.event.country, e.event.requestId, e.event.model])).toEqual([
      ['d1', 'a', 'JP', 'req-0', 'm00'],
      ['d2', 'b', 'FR', 'req-1', 'm11'],
      ['d1', 'c', 'JP', 'req-2', 'm22'],
      ['d2', 'a', 'FR', 'req-3', 'm33'],
    ]);
  });

  it('{i} is plain text substitution: nothing in an event is evaluated', () => {
    const g = globalThis as { pwned?: unknown };
    const [e] = expand({ ...base, events: [{ repeat: { every: '1s', times: 1, event: { model: '${globalThis.pwned = 1}{i}', userAgent: '{{i}}' } } }] });
    expect(e!.event.model).toBe('${globalThis.pwned = 1}0');
    expect(e!.event.userAgent).toBe('{0}');
    expect(g.pwned).toBeUndefined();
  });

  it('refuses events the contract refuses, and cases too long or out of time range, naming where', () => {
    const err = (spec: unknown) => {
      try {
        expand(spec);
      } catch (e) {
        expect(e).toBeInstanceOf(ExpandError);
        return e as ExpandError;
      }
      throw new Error('expected an ExpandError');
    };
    expect(err({ ...base, events: [{}, { event: { accountId: null } }] })).toMatchObject({ path: ['events', 1], message: expect.stringMatching(/accountId/) });
    expect(err({ ...base, events: [{ repeat: { every: '1s', times: 150_000 } }, { repeat: { every: '1s', times: 60_000 } }] }).message).toMatch(/210000 events/);
    expect(err({ ...base, events: [{ at: '+99999999999d' }] }).path).toEqual(['events', 0]);
    expect(() => TestCase.parse({ ...base, events: [{ repeat: { every: '1s', times: 1 }, at: '+1s' }] })).toThrow(/inside `repeat:`/);
  });
});

const ruleYaml = (threshold: number) => `
rules:
  - id: burst
    description: d
    severity: low
    mode: enforce
    owner: o
    conditions: [{ kind: velocity, window: 1m, threshold: ${threshold} }]
    strike: { points: 1, reason: "{{velocity.observed}} in a minute" }
    cooldown: 1h
  - id: quiet
    description: d
    severity: low
    mode: shadow
    owner: o
    conditions: [{ kind: velocity, window: 1m, threshold: 1000 }]
    strike: { points: 1, reason: r }
    cooldown: 1h
`;

function caseOf(text: string, threshold = 3): LoadedCase[] {
  const loaded = loadTests([{ file: 't.test.yaml', text }], rulesFrom(ruleYaml(threshold)));
  expect(loaded.issues).toEqual([]);
  return loaded.cases;
}

describe('running cases through the engine', () => {
  const text = `
cases:
  - name: three in a minute strike a1 only
    rules: [burst]
    events:
      - repeat: { every: 10s, times: 3, event: { accountId: a1 } }
      - repeat: { every: 10s, times: 2, event: { accountId: a2 } }
    expect:
      strikes: [{ rule: burst, account: a1, count: 1 }]
      noStrikes: [{ rule: burst, account: a2 }]
`;

  it('passes when the engine does what the case expects', () => {
    const [c] = caseOf(text);
    const r = runCase(rulesFrom(ruleYaml(3)), testPolicy(), c!);
    expect(r).toMatchObject({ passed: true, events: { sent: 5, accepted: 5 } });
    expect(r.expectations.map((e) => [e.rule, e.account, e.expected, e.actual, e.ok])).toEqual([
      ['burst', 'a1', '1', 1, true],
      ['burst', 'a2', '0', 0, true],
    ]);
  });

  it('fails with a readable expected-vs-actual diff when the rule changes', () => {
    const [c] = caseOf(text, 2);
    const r = runCase(rulesFrom(ruleYaml(2)), testPolicy(), c!);
    expect(r.passed).toBe(false);
    const out = formatCaseResults([r]);
    expect(out).toMatch(/✗ three in a minute strike a1 only/);
    expect(out).toMatch(/✗\s+burst\s+a2\s+0\s+1/);
    expect(out).toMatch(/2026-11-02T00:00:30.000Z a2 \(enforce\): 2 in a minute/);
    expect(out).toMatch(/strikes in this case: burst a1 ×1, burst a2 ×1/);
    expect(out).toMatch(/0 passed, 1 failed/);
  });

  it('runs only the rules a case names', () => {
    const [c] = caseOf(`
cases:
  - name: q
    rules: [quiet]
    events: [{ repeat: { every: 1s, times: 5 } }]
    expect: { noStrikes: [{ rule: quiet }] }
`);
    const r = runCase(rulesFrom(ruleYaml(3)), testPolicy(), c!);
    expect(r.strikeCounts).toEqual({});
  });

  it('count is exact and mode is checked when given', () => {
    const [c] = caseOf(`
cases:
  - name: q
    events: [{ repeat: { every: 1s, times: 5 } }]
    expect: { strikes: [{ rule: burst, account: acc-1, count: 2 }, { rule: burst, account: acc-1, mode: shadow }] }
`);
    const r = runCase(rulesFrom(ruleYaml(3)), testPolicy(), c!);
    expect(r.expectations.map((e) => [e.expected, e.actual, e.ok])).toEqual([
      ['2', 1, false],
      ['≥1', 0, false],
    ]);
  });

  it('reports duplicate events a case sends', () => {
    const [c] = caseOf(`
cases:
  - name: dup
    events: [{ event: { eventId: same } }, { event: { eventId: same } }]
    expect: { noStrikes: [{ rule: burst }] }
`);
    expect(runCase(rulesFrom(ruleYaml(3)), testPolicy(), c!).events).toEqual({ sent: 2, accepted: 1, duplicates: 1, late: 0 });
  });
});

describe('the shipped pack', () => {
  it('every case of rules/*.test.yaml passes with rules/policy.yaml', async () => {
    const v = await validateDir(PACK);
    const policy = await loadPolicyFile(`${PACK}/policy.yaml`);
    const results = v.tests.cases.map((c) => runCase(v.rules!, policy, c));
    expect(results.filter((r) => !r.passed).map((r) => r.name)).toEqual([]);
  });

  it('every rule has a case that strikes and a case that does not (boundaries both sides)', async () => {
    const v = await validateDir(PACK);
    for (const rule of v.rules!.rules) {
      const id = rule.spec.id;
      const named = v.tests.cases.filter((c) => c.spec.rules?.length === 1 && c.spec.rules[0] === id);
      expect(named.some((c) => c.spec.expect.strikes.some((s) => s.rule === id)), `${id} strikes`).toBe(true);
      expect(named.some((c) => c.spec.expect.noStrikes.some((s) => s.rule === id)), `${id} does not`).toBe(true);
    }
  });
});
