import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GenerationEventSchema } from '../../src/contract/event.js';
import { parseInstant } from '../../src/time/instant.js';

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** RFC 3339 timestamps as the contract admits them: any fraction length, Z or any ±HH:MM offset. */
const timestamp = fc
  .record({
    ms: fc.integer({ min: Date.parse('0001-01-01T00:00:00Z'), max: Date.parse('9999-12-31T23:59:59Z') }),
    fraction: fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined }),
    offset: fc.option(fc.record({ sign: fc.constantFrom('+', '-'), h: fc.integer({ min: 0, max: 23 }), m: fc.integer({ min: 0, max: 59 }) }), { nil: undefined }),
  })
  .map(({ ms, fraction, offset }) => {
    const base = new Date(ms).toISOString().slice(0, 19);
    const zone = offset ? `${offset.sign}${pad(offset.h, 2)}:${pad(offset.m, 2)}` : 'Z';
    return `${base}${fraction === undefined ? '' : `.${fraction}`}${zone}`;
  });

describe('parseInstant', () => {
  it('reads the examples as Date.parse does', () => {
    for (const text of ['2026-11-02T09:15:02.120+09:00', '1970-01-01T00:00:00Z', '2000-02-29T23:59:59.9999-12:30', '9999-12-31T23:59:59.999999999+14:00', '2026-03-29T01:00:00.5+00:00']) {
      expect(parseInstant(text)).toBe(Date.parse(text));
    }
  });

  it('truncates a fraction of any length to milliseconds (V8 misreads ten digits or more: ".0005000000" as 5 ms)', () => {
    expect(parseInstant('1970-01-01T00:00:00.0005000000Z')).toBe(0);
    expect(parseInstant('1970-01-01T00:00:00.999999999999Z')).toBe(999);
  });

  it('property: equals Date.parse on every timestamp the contract accepts (fractions up to nanoseconds)', () => {
    const occurredAt = GenerationEventSchema.shape.occurredAt;
    fc.assert(
      fc.property(timestamp, (text) => {
        expect(occurredAt.safeParse(text).success).toBe(true);
        expect(parseInstant(text)).toBe(Date.parse(text));
      }),
      { numRuns: 5_000 },
    );
  });
});
