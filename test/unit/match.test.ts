import { describe, expect, it } from 'vitest';
import type { GenerationEvent } from '../../src/contract/event.js';
import { compileMatch, MatchError, readField } from '../../src/rules/match.js';
import type { MatchExpr, NamedList } from '../../src/rules/schema.js';
import { SPEC_EXAMPLE_EVENT } from '../support/events.js';

// Occurred at 00:15:02.120Z, 09:15 in Tokyo.
const base: GenerationEvent = { ...SPEC_EXAMPLE_EVENT, userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' };

const lists = new Map<string, NamedList>([
  ['scripted', { kind: 'values', items: ['api'] }],
  ['mobile', { kind: 'values', items: ['ios', 'android'] }],
  ['plans', { kind: 'values', items: ['pro', 'basic'] }],
  ['carrier_nat', { kind: 'cidr', items: ['100.64.0.0/10'] }],
  ['shared_egress', { kind: 'cidr', items: ['192.0.2.0/24', '2001:db8:1::/48'] }],
]);

function test(match: MatchExpr | MatchExpr[], overrides: Partial<GenerationEvent> = {}, remove: Array<keyof GenerationEvent> = []): boolean {
  const event: Record<string, unknown> = { ...base, ...overrides };
  for (const k of remove) delete event[k];
  const e = event as GenerationEvent;
  return compileMatch(Array.isArray(match) ? match : [match], lists)(e, Date.parse(e.occurredAt));
}

function compileError(match: MatchExpr[]): MatchError {
  try {
    compileMatch(match, lists);
  } catch (err) {
    expect(err).toBeInstanceOf(MatchError);
    return err as MatchError;
  }
  throw new Error('expected a MatchError');
}

describe('operators', () => {
  it('an empty match matches every event', () => {
    expect(test([])).toBe(true);
  });

  it('equals', () => {
    expect(test({ field: 'type', op: 'equals', value: 'generation.requested' })).toBe(true);
    expect(test({ field: 'type', op: 'equals', value: 'generation.completed' })).toBe(false);
    expect(test({ field: 'unlimited', op: 'equals', value: true })).toBe(true);
    expect(test({ field: 'unlimited', op: 'equals', value: true }, { unlimited: false })).toBe(false);
    // No coercion between types.
    expect(test({ field: 'unlimited', op: 'equals', value: 'true' })).toBe(false);
  });

  it('not-equals', () => {
    expect(test({ field: 'tool', op: 'not-equals', value: 'video' })).toBe(true);
    expect(test({ field: 'tool', op: 'not-equals', value: 'image' })).toBe(false);
  });

  it('in / not-in with literal values', () => {
    expect(test({ field: 'speed', op: 'in', value: ['fast', 'relaxed'] })).toBe(true);
    expect(test({ field: 'speed', op: 'in', value: ['relaxed'] })).toBe(false);
    expect(test({ field: 'speed', op: 'in', value: 'fast' })).toBe(true);
    expect(test({ field: 'speed', op: 'not-in', value: ['relaxed'] })).toBe(true);
    expect(test({ field: 'speed', op: 'not-in', value: ['fast', 'relaxed'] })).toBe(false);
  });

  it('in-cidr / not-in-cidr with literal ranges', () => {
    expect(test({ field: 'ip', op: 'in-cidr', value: ['203.0.113.0/24'] })).toBe(true);
    expect(test({ field: 'ip', op: 'in-cidr', value: ['198.51.100.0/24'] })).toBe(false);
    expect(test({ field: 'ip', op: 'in-cidr', value: '203.0.113.7' })).toBe(true);
    expect(test({ field: 'ip', op: 'not-in-cidr', value: ['198.51.100.0/24'] })).toBe(true);
    expect(test({ field: 'ip', op: 'not-in-cidr', value: ['203.0.113.0/24'] })).toBe(false);
  });

  it('prefix / suffix / contains', () => {
    expect(test({ field: 'userAgent', op: 'prefix', value: 'Mozilla/' })).toBe(true);
    expect(test({ field: 'userAgent', op: 'prefix', value: 'curl/' })).toBe(false);
    expect(test({ field: 'userAgent', op: 'suffix', value: 'x86_64)' })).toBe(true);
    expect(test({ field: 'userAgent', op: 'suffix', value: 'Mozilla' })).toBe(false);
    expect(test({ field: 'userAgent', op: 'contains', value: 'Linux' })).toBe(true);
    expect(test({ field: 'userAgent', op: 'contains', value: 'Windows' })).toBe(false);
    // Case-sensitive, and never true on an absent field.
    expect(test({ field: 'userAgent', op: 'contains', value: 'linux' })).toBe(false);
    expect(test({ field: 'userAgent', op: 'contains', value: '' }, {}, ['userAgent'])).toBe(false);
    expect(test({ field: 'userAgent', op: 'prefix', value: '' }, {}, ['userAgent'])).toBe(false);
  });

  // 00:15:02Z on 2 Nov 2026 is 09:15 in Tokyo.
  it.each([
    ['gt', 8, true],
    ['gt', 9, false],
    ['gte', 9, true],
    ['gte', 10, false],
    ['lt', 10, true],
    ['lt', 9, false],
    ['lte', 9, true],
    ['lte', 8, false],
  ] as const)('localHour %s %d → %s', (op, value, expected) => {
    expect(test({ field: 'localHour', op, value })).toBe(expected);
  });

  it('exists / absent on optional fields', () => {
    expect(test({ field: 'deviceId', op: 'exists' })).toBe(true);
    expect(test({ field: 'deviceId', op: 'exists' }, {}, ['deviceId'])).toBe(false);
    expect(test({ field: 'deviceId', op: 'absent' })).toBe(false);
    expect(test({ field: 'deviceId', op: 'absent' }, {}, ['deviceId'])).toBe(true);
    for (const field of ['userAgent', 'client', 'timezone', 'country'] as const) {
      expect(test({ field, op: 'exists' }), field).toBe(true);
      expect(test({ field, op: 'absent' }, {}, [field]), field).toBe(true);
    }
    // localHour is derived, so it always exists (UTC when the zone is absent).
    expect(test({ field: 'localHour', op: 'exists' }, {}, ['timezone'])).toBe(true);
  });
});

describe('named lists', () => {
  it('expands a $list reference', () => {
    expect(test({ field: 'client', op: 'in', value: '$scripted' }, { client: 'api' })).toBe(true);
    expect(test({ field: 'client', op: 'in', value: '$scripted' })).toBe(false);
    expect(test({ field: 'client', op: 'not-in', value: ['$scripted'] })).toBe(true);
  });

  it('expands several lists and literals in one value, and records the lists used', () => {
    const used = new Map<string, NamedList>();
    const p = compileMatch([{ field: 'client', op: 'in', value: ['$scripted', '$mobile', 'web'] }], lists, used);
    const at = (client: GenerationEvent['client']) => p({ ...base, client }, 0);
    expect(at('api')).toBe(true);
    expect(at('ios')).toBe(true);
    expect(at('android')).toBe(true);
    expect(at('web')).toBe(true);
    expect(at(undefined)).toBe(false);
    expect([...used.keys()].sort()).toEqual(['mobile', 'scripted']);
  });

  it('expands several cidr lists in one value', () => {
    const m: MatchExpr = { field: 'ip', op: 'in-cidr', value: ['$carrier_nat', '$shared_egress'] };
    expect(test(m, { ip: '100.100.1.1' })).toBe(true);
    expect(test(m, { ip: '192.0.2.55' })).toBe(true);
    expect(test(m, { ip: '2001:db8:1:ffff::1' })).toBe(true);
    expect(test(m, { ip: '2001:db8:2::1' })).toBe(false);
    expect(test(m, { ip: '8.8.8.8' })).toBe(false);
  });

  it('an unknown list is list.unknown; a list of the wrong kind is list.kind', () => {
    expect(compileError([{ field: 'client', op: 'in', value: ['web', '$nope'] }])).toMatchObject({ code: 'list.unknown', path: ['match', 0, 'value'] });
    expect(compileError([{ field: 'ip', op: 'in-cidr', value: '$scripted' }])).toMatchObject({ code: 'list.kind', path: ['match', 0, 'value'] });
    expect(compileError([{ field: 'client', op: 'in', value: '$carrier_nat' }])).toMatchObject({ code: 'list.kind', path: ['match', 0, 'value'] });
  });
});

describe('not-in-cidr across address families', () => {
  const m: MatchExpr = { field: 'ip', op: 'not-in-cidr', value: ['$carrier_nat', '$shared_egress'] };

  it('IPv4', () => {
    expect(test(m, { ip: '100.64.0.1' })).toBe(false);
    expect(test(m, { ip: '100.127.255.255' })).toBe(false);
    expect(test(m, { ip: '100.128.0.0' })).toBe(true);
    expect(test(m, { ip: '203.0.113.7' })).toBe(true);
  });

  it('IPv6', () => {
    expect(test(m, { ip: '2001:db8:1::42' })).toBe(false);
    expect(test(m, { ip: '2001:DB8:1:0:0:0:0:42' })).toBe(false);
    expect(test(m, { ip: '2001:db8:2::42' })).toBe(true);
    expect(test(m, { ip: '::1' })).toBe(true);
  });

  it('IPv4-mapped IPv6 is treated as its IPv4 address', () => {
    expect(test(m, { ip: '::ffff:100.64.0.1' })).toBe(false);
    expect(test(m, { ip: '::ffff:192.0.2.1' })).toBe(false);
    expect(test(m, { ip: '0:0:0:0:0:ffff:6440:0001' })).toBe(false); // 100.64.0.1 in hex
    expect(test(m, { ip: '::ffff:203.0.113.7' })).toBe(true);
  });
});

describe('malformed IPs never match in-cidr', () => {
  const everything: MatchExpr = { field: 'ip', op: 'in-cidr', value: ['0.0.0.0/0', '::/0'] };
  it.each(['', 'not-an-ip', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.4/8', ' 1.2.3.4', '1::2::3', 'g::1', ':::', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0'])(
    '%j',
    (ip) => {
      expect(test(everything, { ip })).toBe(false);
    },
  );
});

describe('localHour', () => {
  const instant = '2026-11-02T00:15:02Z';
  it.each([
    ['Asia/Tokyo', 9],
    ['UTC', 0],
    ['America/New_York', 19], // EST (UTC−5) on 1 Nov local time
    ['Asia/Kolkata', 5], // UTC+5:30 → 05:45
    ['Pacific/Kiritimati', 14], // UTC+14
  ])('is derived in the event timezone %s', (timezone, hour) => {
    const e: GenerationEvent = { ...base, occurredAt: instant, timezone };
    expect(readField(e, Date.parse(instant), 'localHour')).toBe(hour);
    expect(test({ field: 'localHour', op: 'equals', value: hour }, { occurredAt: instant, timezone })).toBe(true);
  });

  it('is UTC when the event has no timezone', () => {
    expect(test({ field: 'localHour', op: 'equals', value: 0 }, { occurredAt: instant }, ['timezone'])).toBe(true);
  });

  it('follows DST: New York is UTC−4 in July', () => {
    expect(test({ field: 'localHour', op: 'equals', value: 20 }, { occurredAt: '2026-07-01T00:00:00Z', timezone: 'America/New_York' })).toBe(true);
  });
});

describe('nested all / any / not', () => {
  const requested: MatchExpr = { field: 'type', op: 'equals', value: 'generation.requested' };
  const video: MatchExpr = { field: 'tool', op: 'equals', value: 'video' };
  const api: MatchExpr = { field: 'client', op: 'equals', value: 'api' };

  it('all', () => {
    expect(test({ all: [requested] })).toBe(true);
    expect(test({ all: [requested, video] })).toBe(false);
    expect(test({ all: [requested, video] }, { tool: 'video' })).toBe(true);
  });

  it('any', () => {
    expect(test({ any: [video, api] })).toBe(false);
    expect(test({ any: [video, api] }, { client: 'api' })).toBe(true);
    expect(test({ any: [video, requested] })).toBe(true);
  });

  it('not', () => {
    expect(test({ not: video })).toBe(true);
    expect(test({ not: requested })).toBe(false);
    expect(test({ not: { not: requested } })).toBe(true);
  });

  it('deep nesting, and a top-level list of expressions means all of them', () => {
    const expr: MatchExpr = { all: [requested, { any: [api, { not: { any: [video, { field: 'deviceId', op: 'exists' }] } }] }] };
    expect(test(expr)).toBe(false); // web, image, has deviceId
    expect(test(expr, {}, ['deviceId'])).toBe(true); // not (video or deviceId)
    expect(test(expr, { client: 'api' })).toBe(true);
    expect(test(expr, { client: 'api', type: 'generation.completed' })).toBe(false);
    expect(test([requested, { not: video }])).toBe(true);
    expect(test([requested, video])).toBe(false);
  });

  it('errors inside nested expressions carry the nested path', () => {
    const err = compileError([requested, { any: [api, { not: { field: 'plan', op: 'gt', value: 3 } }] }]);
    expect(err.code).toBe('match.op-field');
    expect(err.path).toEqual(['match', 1, 'any', 1, 'not', 'field']);
  });
});

describe('compile errors', () => {
  it('a numeric operator on a non-numeric field is a MatchError with a code', () => {
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
      const err = compileError([{ field: 'plan', op, value: 3 }]);
      expect(err.code).toBe('match.op-field');
      expect(err.path).toEqual(['match', 0, 'field']);
      expect(err.message).toContain('plan');
    }
  });

  it.each<[string, MatchExpr, string, (string | number)[]]>([
    ['a numeric operator with a string value', { field: 'localHour', op: 'gt', value: '3' }, 'match.value-type', ['match', 0, 'value']],
    ['in-cidr on a non-IP field', { field: 'country', op: 'in-cidr', value: '10.0.0.0/8' }, 'match.op-field', ['match', 0, 'op']],
    ['a bad CIDR literal', { field: 'ip', op: 'in-cidr', value: ['10.0.0.0/8', '10.0.0.0/33'] }, 'match.bad-cidr', ['match', 0, 'value']],
    ['exists with a value', { field: 'deviceId', op: 'exists', value: 'x' }, 'match.unexpected-value', ['match', 0, 'value']],
    ['equals with a list', { field: 'plan', op: 'equals', value: ['pro', 'basic'] }, 'match.single-value', ['match', 0, 'value']],
    ['equals without a value', { field: 'plan', op: 'equals' }, 'match.single-value', ['match', 0, 'value']],
    ['in without a value', { field: 'plan', op: 'in' }, 'match.missing-value', ['match', 0, 'value']],
    ['prefix with a number', { field: 'userAgent', op: 'prefix', value: 5 }, 'match.value-type', ['match', 0, 'value']],
  ])('%s', (_name, expr, code, path) => {
    const err = compileError([expr]);
    expect(err.code).toBe(code);
    expect(err.path).toEqual(path);
  });
});
