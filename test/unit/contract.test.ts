import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES } from '../../src/contract/event.js';
import { parseEventLine, type ParseResult } from '../../src/contract/parse.js';

/** The example line of shared/spec/events.md, verbatim. */
const SPEC_EXAMPLE =
  '{"eventId":"e-000001","type":"generation.requested",' +
  '"occurredAt":"2026-11-02T09:15:02.120+09:00","accountId":"acc-42",' +
  '"requestId":"r-9f1","plan":"unlimited","unlimited":true,"tool":"image",' +
  '"model":"imagine-4","speed":"fast","ip":"203.0.113.7",' +
  '"deviceId":"d-7c1","userAgent":"Mozilla/5.0","client":"web",' +
  '"timezone":"Asia/Tokyo","country":"JP"}';

const example = JSON.parse(SPEC_EXAMPLE) as Record<string, unknown>;
const REQUIRED = ['eventId', 'type', 'occurredAt', 'accountId', 'requestId', 'plan', 'unlimited', 'tool', 'model', 'speed', 'ip'] as const;
const OPTIONAL = ['deviceId', 'userAgent', 'client', 'timezone', 'country'] as const;

const withFields = (patch: Record<string, unknown>, remove: readonly string[] = []): string => {
  const o: Record<string, unknown> = { ...example, ...patch };
  for (const k of remove) delete o[k];
  return JSON.stringify(o);
};

function ok(result: ParseResult) {
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}: ${result.detail}`);
  return result.value;
}

function bad(result: ParseResult, reason: 'oversized' | 'not-json' | 'schema'): string {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('unreachable');
  expect(result.reason).toBe(reason);
  expect(typeof result.detail).toBe('string');
  return result.detail;
}

describe('accepted events', () => {
  it("parses the spec's example line exactly", () => {
    const { event, ts } = ok(parseEventLine(SPEC_EXAMPLE));
    expect(event).toEqual(example);
    expect(ts).toBe(Date.parse('2026-11-02T00:15:02.120Z'));
  });

  it('accepts an event with only the required fields', () => {
    const { event } = ok(parseEventLine(withFields({}, OPTIONAL)));
    for (const k of OPTIONAL) expect(event).not.toHaveProperty(k);
  });

  it.each(['generation.requested', 'generation.started', 'generation.completed', 'generation.failed'])('accepts type %s', (type) => {
    expect(ok(parseEventLine(withFields({ type }))).event.type).toBe(type);
  });

  it.each([
    ['tool', 'video'],
    ['speed', 'relaxed'],
    ['client', 'ios'],
    ['client', 'android'],
    ['client', 'api'],
    ['unlimited', false],
  ])('accepts %s = %j', (field, value) => {
    expect(ok(parseEventLine(withFields({ [field]: value }))).event).toMatchObject({ [field]: value });
  });

  it('accepts extra unknown fields and drops them', () => {
    const { event } = ok(parseEventLine(withFields({ extra: 1, nested: { a: [1, 2] }, region: 'ap-northeast-1' })));
    expect(event).toEqual(example);
    expect(event).not.toHaveProperty('extra');
    expect(event).not.toHaveProperty('nested');
  });

  it.each([
    ['userAgent', 'Mozilla/5.0 '.repeat(200)], // 2400 chars: plausible for bots and embedded webviews
    ['deviceId', 'd'.repeat(300)],
    ['plan', 'enterprise-'.repeat(10)],
    ['model', 'm'.repeat(200)],
  ])('accepts a long %s: the contract only bounds ids, and the whole line is bounded by MAX_EVENT_BYTES', (field, value) => {
    expect(withFields({ [field]: value }).length).toBeLessThan(MAX_EVENT_BYTES);
    expect(ok(parseEventLine(withFields({ [field]: value }))).event).toMatchObject({ [field]: value });
  });
});

describe('required fields', () => {
  it.each(REQUIRED)('missing %s → schema, naming the field', (field) => {
    expect(bad(parseEventLine(withFields({}, [field])), 'schema')).toContain(field);
  });

  it.each(REQUIRED)('null %s → schema, naming the field', (field) => {
    expect(bad(parseEventLine(withFields({ [field]: null })), 'schema')).toContain(field);
  });

  it.each(['eventId', 'accountId', 'requestId'])('%s of 0 and 129 chars is rejected, 128 is accepted', (field) => {
    expect(bad(parseEventLine(withFields({ [field]: '' })), 'schema')).toContain(field);
    expect(bad(parseEventLine(withFields({ [field]: 'x'.repeat(129) })), 'schema')).toContain(field);
    expect(ok(parseEventLine(withFields({ [field]: 'x'.repeat(128) }))).event).toMatchObject({ [field]: 'x'.repeat(128) });
  });

  it.each([
    ['type', 'generation.queued'],
    ['type', 'GENERATION.REQUESTED'],
    ['tool', 'audio'],
    ['speed', 'turbo'],
    ['client', 'desktop'],
    ['unlimited', 'true'],
    ['unlimited', 1],
    ['eventId', 42],
    ['plan', true],
  ])('wrong value %s = %j → schema, naming the field', (field, value) => {
    expect(bad(parseEventLine(withFields({ [field]: value })), 'schema')).toContain(field);
  });
});

describe('occurredAt', () => {
  it.each([
    ['2026-11-02T09:15:02Z', Date.UTC(2026, 10, 2, 9, 15, 2)],
    ['2026-11-02T09:15:02+09:00', Date.UTC(2026, 10, 2, 0, 15, 2)],
    ['2026-11-02T09:15:02-05:30', Date.UTC(2026, 10, 2, 14, 45, 2)],
    ['2026-11-02T09:15:02.1Z', Date.UTC(2026, 10, 2, 9, 15, 2, 100)],
    ['2026-11-02T09:15:02.120+09:00', Date.UTC(2026, 10, 2, 0, 15, 2, 120)],
    ['2026-11-02T09:15:02.123456Z', Date.UTC(2026, 10, 2, 9, 15, 2, 123)],
    ['2024-02-29T23:59:59.999Z', Date.UTC(2024, 1, 29, 23, 59, 59, 999)],
  ])('accepts %s and ts equals Date.parse', (occurredAt, expected) => {
    const { event, ts } = ok(parseEventLine(withFields({ occurredAt })));
    expect(event.occurredAt).toBe(occurredAt);
    expect(ts).toBe(Date.parse(occurredAt));
    expect(ts).toBe(expected);
  });

  it.each([
    ['without offset', '2026-11-02T09:15:02'],
    ['date only', '2026-11-02'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['30 February', '2026-02-30T00:00:00Z'],
    ['29 February in a common year', '2026-02-29T00:00:00Z'],
    ['hour 24', '2026-11-02T24:00:00Z'],
    ['minute 60', '2026-11-02T09:60:00Z'],
    ['not a date', 'yesterday'],
    ['epoch number as string', '1793578502120'],
    ['offset without colon', '2026-11-02T09:15:02+0900'],
    ['space separator', '2026-11-02 09:15:02Z'],
    ['empty', ''],
  ])('rejects occurredAt %s', (_name, occurredAt) => {
    expect(bad(parseEventLine(withFields({ occurredAt })), 'schema')).toContain('occurredAt');
  });

  it('rejects a numeric occurredAt', () => {
    expect(bad(parseEventLine(withFields({ occurredAt: 1793578502120 })), 'schema')).toContain('occurredAt');
  });
});

describe('ip, timezone, country', () => {
  it.each(['203.0.113.7', '0.0.0.0', '255.255.255.255', '2001:db8::1', '::1', '::', '2001:0db8:0000:0000:0000:ff00:0042:8329', '::ffff:203.0.113.7', 'FE80::1'])(
    'accepts ip %s',
    (ip) => {
      expect(ok(parseEventLine(withFields({ ip }))).event.ip).toBe(ip);
    },
  );

  it.each(['', '256.0.0.1', '1.2.3', '1.2.3.4.5', 'localhost', '203.0.113.7:443', '1::2::3', '2001:db8::g', '203.0.113.0/24', ' 203.0.113.7'])(
    'rejects ip %j',
    (ip) => {
      expect(bad(parseEventLine(withFields({ ip })), 'schema')).toContain('ip');
    },
  );

  it.each(['Asia/Tokyo', 'UTC', 'America/Argentina/Buenos_Aires', 'Europe/London'])('accepts timezone %s', (timezone) => {
    expect(ok(parseEventLine(withFields({ timezone }))).event.timezone).toBe(timezone);
  });

  it.each(['Mars/Olympus_Mons', 'Asia/Tokio', '+09:00', '', 'x'.repeat(65)])('rejects timezone %j', (timezone) => {
    expect(bad(parseEventLine(withFields({ timezone })), 'schema')).toContain('timezone');
  });

  it.each(['jp', 'Jp', 'JPN', 'J', '', '12'])('rejects country %j (ISO 3166-1 alpha-2 is two upper-case letters)', (country) => {
    expect(bad(parseEventLine(withFields({ country })), 'schema')).toContain('country');
  });
});

describe('not JSON, not an object, oversized', () => {
  it.each([
    ['{', '{'],
    ['undefined', 'undefined'],
    ['empty', ''],
    ['whitespace', '   '],
    ['binary garbage', '\u0000\u0001\u00ff\ufffd\ud800'],
    ['trailing garbage', `${SPEC_EXAMPLE}x`],
    ['two objects', `${SPEC_EXAMPLE}${SPEC_EXAMPLE}`],
    ['single quotes', "{'eventId':'e'}"],
    ['NaN', 'NaN'],
  ])('%s → not-json', (_name, line) => {
    bad(parseEventLine(line), 'not-json');
  });

  it.each([
    ['array', '[1,2]'],
    ['array of the event', `[${SPEC_EXAMPLE}]`],
    ['number', '42'],
    ['null', 'null'],
    ['string', '"hello"'],
    ['boolean', 'true'],
    ['empty object', '{}'],
  ])('JSON %s → schema', (_name, line) => {
    bad(parseEventLine(line), 'schema');
  });

  it('a line over MAX_EVENT_BYTES → oversized; exactly MAX_EVENT_BYTES is not', () => {
    const pad = (bytes: number, ch: string): string => {
      const shell = withFields({ pad: '' });
      const unit = Buffer.byteLength(ch);
      const line = withFields({ pad: ch.repeat(Math.floor((bytes - Buffer.byteLength(shell)) / unit)) });
      return line;
    };
    const exact = pad(MAX_EVENT_BYTES, 'x');
    expect(Buffer.byteLength(exact)).toBe(MAX_EVENT_BYTES);
    ok(parseEventLine(exact));
    const over = withFields({ pad: 'x'.repeat(MAX_EVENT_BYTES - Buffer.byteLength(withFields({ pad: '' })) + 1) });
    expect(Buffer.byteLength(over)).toBe(MAX_EVENT_BYTES + 1);
    bad(parseEventLine(over), 'oversized');
    // Multi-byte: few UTF-16 units, many bytes.
    const wide = pad(MAX_EVENT_BYTES + 300, '\u00e9');
    expect(wide.length).toBeLessThan(MAX_EVENT_BYTES);
    bad(parseEventLine(wide), 'oversized');
    bad(parseEventLine('x'.repeat(10 * MAX_EVENT_BYTES)), 'oversized');
  });
});

describe('hostile input', () => {
  it('a __proto__ key does not pollute Object.prototype', () => {
    const payload = '{"polluted":"yes","eventId":"x"}';
    const lines = [
      `{"__proto__":${payload},${SPEC_EXAMPLE.slice(1)}`,
      `${SPEC_EXAMPLE.slice(0, -1)},"__proto__":${payload}}`,
      `{"constructor":{"prototype":${payload}},${SPEC_EXAMPLE.slice(1)}`,
      `{"__proto__":${payload}}`,
    ];
    for (const line of lines) {
      const r = parseEventLine(line);
      if (r.ok) {
        expect(r.value.event.eventId).toBe('e-000001');
        expect(Object.getPrototypeOf(r.value.event)).toBe(Object.prototype);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    }
  });

  it('property: arbitrary strings never make parseEventLine throw', () => {
    const jsonish = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.dictionary(fc.constantFrom(...REQUIRED, ...OPTIONAL, '__proto__', 'constructor'), fc.jsonValue()).map((d) => JSON.stringify({ ...example, ...d })),
      fc.string({ maxLength: 100 }).map((s) => withFields({ occurredAt: s })),
      fc.string({ maxLength: 100 }).map((s) => withFields({ timezone: s })),
      fc.string({ maxLength: 60 }).map((s) => withFields({ ip: s })),
    );
    fc.assert(
      fc.property(jsonish, (line) => {
        const r = parseEventLine(line);
        expect(typeof r.ok).toBe('boolean');
        if (r.ok) expect(r.value.ts).toBe(Date.parse(r.value.event.occurredAt));
        else expect(['oversized', 'not-json', 'schema']).toContain(r.reason);
      }),
      { numRuns: 3_000 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
