import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GenerationEventSchema } from '../../src/contract/event.js';
import { fastAccept } from '../../src/contract/fast-path.js';
import { SPEC_EXAMPLE_EVENT } from '../support/events.js';

const EXAMPLE = SPEC_EXAMPLE_EVENT;
const FIELDS = Object.keys(EXAMPLE);

/** Values near every field's edge: lengths 0/1/128/129/64/65, enum look-alikes, almost-dates, almost-IPs. */
const TRICKY: unknown[] = [
  '',
  'x',
  'a'.repeat(128),
  'a'.repeat(129),
  'Europe/Paris',
  'America/Argentina/Buenos_Aires',
  'Mars/Olympus',
  'UTC',
  'a'.repeat(65),
  'JP',
  'jp',
  'JPN',
  'generation.requested',
  'generation.completed',
  'Generation.requested',
  'image',
  'video',
  'IMAGE',
  'fast',
  'relaxed',
  'web',
  'api',
  'desktop',
  '2026-02-29T00:00:00Z',
  '2028-02-29T00:00:00Z',
  '2026-11-02T09:15:02Z',
  '2026-11-02T09:15:02.1+09:00',
  '2026-11-02T09:15:02',
  '2026-11-02t09:15:02z',
  '2026-11-02T24:00:00Z',
  '2026-11-02 09:15:02Z',
  '10.0.0.1',
  '255.255.255.255',
  '256.1.1.1',
  '01.2.3.4',
  '1.2.3',
  ' 1.2.3.4',
  '::1',
  '2001:db8::1',
  '::ffff:1.2.3.4',
  'fe80::1%eth0',
  '2a05:564e:4e90:6e17:46e7:c960:5279:917d',
  '2A05:564E:4E90:6E17:46E7:C960:5279:917D',
  '2a05:564e:4e90:6e17:46e7:c960:5279:917d0',
  '2a05:564e:4e90:6e17:46e7:c960:5279',
  '2a05:564e:4e90:6e17:46e7:c960:5279:917d:1',
  '0:0:0:0:0:0:0:0',
  true,
  false,
  'true',
  0,
  1,
  null,
  [],
  {},
  ['image'],
];

const candidate = fc.record({
  patch: fc.dictionary(fc.constantFrom(...FIELDS), fc.constantFrom(...TRICKY), { maxKeys: 3 }),
  remove: fc.subarray(FIELDS, { maxLength: 3 }),
  extra: fc.option(fc.constantFrom('__proto__', 'constructor', 'note', 'localHour'), { nil: undefined }),
});

function build({ patch, remove, extra }: { patch: Record<string, unknown>; remove: string[]; extra: string | undefined }): unknown {
  const o: Record<string, unknown> = { ...EXAMPLE, ...patch };
  for (const k of remove) delete o[k];
  // Through JSON, as events arrive: a "__proto__" key is then an own property, as JSON.parse makes it.
  const text = JSON.stringify(o);
  return JSON.parse(extra ? `{${JSON.stringify(extra)}:"x",${text.slice(1)}` : text);
}

describe('fast path of the event contract', () => {
  it('takes the common events itself: the spec example, required fields only, every enum value', () => {
    expect(fastAccept(structuredClone(EXAMPLE))).toEqual(EXAMPLE);
    const required = { ...EXAMPLE } as Record<string, unknown>;
    for (const k of ['deviceId', 'userAgent', 'client', 'timezone', 'country']) delete required[k];
    expect(fastAccept(required)).toEqual(required);
    for (const type of ['generation.started', 'generation.completed', 'generation.failed']) expect(fastAccept({ ...EXAMPLE, type })).toBeDefined();
    for (const client of ['ios', 'android', 'api']) expect(fastAccept({ ...EXAMPLE, client })).toBeDefined();
  });

  it('checks IPv6 as zod does', () => {
    expect(fastAccept({ ...EXAMPLE, ip: '2001:db8::1' })).toBeDefined();
    expect(fastAccept({ ...EXAMPLE, ip: '::ffff:1.2.3.4' })).toBeDefined();
    expect(fastAccept({ ...EXAMPLE, ip: 'fe80::1%eth0' })).toBeUndefined();
    expect(fastAccept({ ...EXAMPLE, ip: '::@1\\' })).toBeUndefined();
    expect(fastAccept({ ...EXAMPLE, ip: '1:2:3:4:5:6:7:8:9' })).toBeUndefined();
  });

  it('property: an IP-like string of hex groups gets zod\'s verdict, compressed or not', () => {
    // Mostly near-valid: hex groups of 1–4 digits joined by single colons, around eight of them.
    const group = fc.oneof({ arbitrary: fc.stringMatching(/^[0-9a-fA-F]{1,4}$/), weight: 12 }, { arbitrary: fc.stringMatching(/^[0-9a-fA-FgG]{0,5}$/), weight: 1 });
    const sep = fc.oneof({ arbitrary: fc.constant(':'), weight: 16 }, { arbitrary: fc.constantFrom('::', '.', ':::'), weight: 1 });
    const count = fc.oneof({ arbitrary: fc.constant(8), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 10 }), weight: 1 });
    const ipLike = count.chain((n) => fc.tuple(fc.array(group, { minLength: n, maxLength: n }), fc.array(sep, { minLength: 9, maxLength: 9 })));
    let valid = 0;
    fc.assert(
      fc.property(ipLike, ([groups, seps]) => {
        const ip = groups.map((g, i) => (i === 0 ? g : seps[i - 1] + g)).join('');
        const zod = GenerationEventSchema.safeParse({ ...EXAMPLE, ip }).success;
        if (zod) valid++;
        expect(fastAccept({ ...EXAMPLE, ip }) !== undefined).toBe(zod);
      }),
      { numRuns: 5_000 },
    );
    expect(valid).toBeGreaterThan(100);
  });

  it('leaves to zod what it cannot vouch for: extra fields, any invalid field', () => {
    expect(fastAccept({ ...EXAMPLE, note: 'x' })).toBeUndefined();
    expect(fastAccept({ ...EXAMPLE, timezone: 'Mars/Olympus' })).toBeUndefined();
    expect(fastAccept({ ...EXAMPLE, country: 'jp' })).toBeUndefined();
    expect(fastAccept({ ...EXAMPLE, eventId: 'a'.repeat(129) })).toBeUndefined();
    expect(fastAccept({ ...EXAMPLE, occurredAt: '2026-02-29T00:00:00Z' })).toBeUndefined();
    expect(fastAccept(null)).toBeUndefined();
    expect(fastAccept([EXAMPLE])).toBeUndefined();
  });

  it('property: whatever it accepts, zod accepts with an equal output (and nothing else)', () => {
    let taken = 0;
    fc.assert(
      fc.property(candidate, (c) => {
        const json = build(c);
        const fast = fastAccept(json);
        const zod = GenerationEventSchema.safeParse(json);
        if (fast === undefined) return;
        taken++;
        expect(zod.success).toBe(true);
        expect(JSON.stringify(fast)).toBe(JSON.stringify(zod.data));
        expect(Object.keys(fast)).toEqual(Object.keys(zod.data!));
      }),
      { numRuns: 5_000 },
    );
    // The property must not hold vacuously: many candidates keep a valid event.
    expect(taken).toBeGreaterThan(100);
  });

  it('property: an event zod accepts unchanged (no extra fields) takes the fast path', () => {
    fc.assert(
      fc.property(candidate, (c) => {
        const json = build(c) as Record<string, unknown>;
        const zod = GenerationEventSchema.safeParse(json);
        if (!zod.success) return;
        if (Object.keys(json).length !== Object.keys(zod.data).length) return;
        expect(fastAccept(json)).toBe(json);
      }),
      { numRuns: 5_000 },
    );
  });
});
