import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localDay, localHour } from '../../src/time/zone.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string): number => Date.parse(iso);

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** Independent reference for a local calendar date (`YYYY-MM-DD`), straight from Intl. */
function referenceDate(zone: string, utcMs: number): string {
  let f = dateFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dateFormats.set(zone, f);
  }
  return f.format(utcMs);
}

function referenceWall(zone: string, utcMs: number): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }).format(utcMs);
}

function expectDay(zone: string, instant: string, date: string, start: string, end: string, hours: number): void {
  const day = localDay(zone, at(instant));
  expect(day).toEqual({ date, start: at(start), end: at(end) });
  expect((day.end - day.start) / HOUR).toBe(hours);
}

describe('localDay: local calendar days, DST-correct', () => {
  it('America/New_York spring-forward (2026-03-08) is a 23-hour day', () => {
    expectDay('America/New_York', '2026-03-08T12:00:00Z', '2026-03-08', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z', 23);
  });

  it('America/New_York fall-back (2026-11-01) is a 25-hour day', () => {
    expectDay('America/New_York', '2026-11-01T12:00:00Z', '2026-11-01', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z', 25);
  });

  it('America/New_York: both 01:30s of the fall-back day belong to it, and the day after is 24 hours again', () => {
    const firstOneThirty = at('2026-11-01T05:30:00Z'); // 01:30 EDT
    const secondOneThirty = at('2026-11-01T06:30:00Z'); // 01:30 EST
    expect(localDay('America/New_York', firstOneThirty).date).toBe('2026-11-01');
    expect(localDay('America/New_York', secondOneThirty).date).toBe('2026-11-01');
    expectDay('America/New_York', '2026-11-02T12:00:00Z', '2026-11-02', '2026-11-02T05:00:00Z', '2026-11-03T05:00:00Z', 24);
  });

  it('America/New_York: the last instant before local midnight is in the day, local midnight starts the next', () => {
    const end = at('2026-03-09T04:00:00Z');
    expect(localDay('America/New_York', end - 1).date).toBe('2026-03-08');
    expect(localDay('America/New_York', end).date).toBe('2026-03-09');
    expect(localDay('America/New_York', end).start).toBe(end);
  });

  it('Europe/Berlin: 2026-03-29 is 23 hours and 2026-10-25 is 25 hours', () => {
    expectDay('Europe/Berlin', '2026-03-29T12:00:00Z', '2026-03-29', '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z', 23);
    expectDay('Europe/Berlin', '2026-10-25T12:00:00Z', '2026-10-25', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z', 25);
  });

  it('Europe/Berlin: an instant late in the UTC day is already the next local date', () => {
    expectDay('Europe/Berlin', '2026-07-01T22:30:00Z', '2026-07-02', '2026-07-01T22:00:00Z', '2026-07-02T22:00:00Z', 24);
  });

  it('Asia/Tokyo (no DST): every day is 24 hours starting at 15:00 UTC', () => {
    expectDay('Asia/Tokyo', '2026-03-08T12:00:00Z', '2026-03-08', '2026-03-07T15:00:00Z', '2026-03-08T15:00:00Z', 24);
    expectDay('Asia/Tokyo', '2026-03-08T15:00:00Z', '2026-03-09', '2026-03-08T15:00:00Z', '2026-03-09T15:00:00Z', 24);
    expectDay('Asia/Tokyo', '2026-11-01T12:00:00Z', '2026-11-01', '2026-10-31T15:00:00Z', '2026-11-01T15:00:00Z', 24);
  });

  it('Australia/Sydney (southern hemisphere): DST starts 2026-10-04 (23 h) and ends 2026-04-05 (25 h)', () => {
    expectDay('Australia/Sydney', '2026-10-04T05:00:00Z', '2026-10-04', '2026-10-03T14:00:00Z', '2026-10-04T13:00:00Z', 23);
    expectDay('Australia/Sydney', '2026-04-05T05:00:00Z', '2026-04-05', '2026-04-04T13:00:00Z', '2026-04-05T14:00:00Z', 25);
  });

  it('America/Havana: midnight itself is skipped on 2026-03-08, so the day starts at the jump (01:00 CDT)', () => {
    expectDay('America/Havana', '2026-03-08T12:00:00Z', '2026-03-08', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z', 23);
    expect(referenceWall('America/Havana', at('2026-03-08T05:00:00Z'))).toBe('01:00');
    // The previous day runs right up to the jump.
    expectDay('America/Havana', '2026-03-07T12:00:00Z', '2026-03-07', '2026-03-07T05:00:00Z', '2026-03-08T05:00:00Z', 24);
    expect(localDay('America/Havana', at('2026-03-08T05:00:00Z') - 1).date).toBe('2026-03-07');
  });

  it('America/Santiago: midnight is skipped on 2026-09-06, so the day starts at 01:00 local', () => {
    expectDay('America/Santiago', '2026-09-06T12:00:00Z', '2026-09-06', '2026-09-06T04:00:00Z', '2026-09-07T03:00:00Z', 23);
    expect(referenceWall('America/Santiago', at('2026-09-06T04:00:00Z'))).toBe('01:00');
    expect(localDay('America/Santiago', at('2026-09-06T04:00:00Z') - 1).date).toBe('2026-09-05');
  });

  it('America/Santiago: when clocks go back at midnight (2026-04-05), the repeated hour stays in the earlier day', () => {
    expectDay('America/Santiago', '2026-04-04T12:00:00Z', '2026-04-04', '2026-04-04T03:00:00Z', '2026-04-05T04:00:00Z', 25);
    expectDay('America/Santiago', '2026-04-05T12:00:00Z', '2026-04-05', '2026-04-05T04:00:00Z', '2026-04-06T04:00:00Z', 24);
  });

  it('handles half-hour and quarter-hour offsets (Asia/Kolkata, Pacific/Chatham)', () => {
    expectDay('Asia/Kolkata', '2026-04-05T12:00:00Z', '2026-04-05', '2026-04-04T18:30:00Z', '2026-04-05T18:30:00Z', 24);
    expectDay('Pacific/Chatham', '2026-04-05T12:00:00Z', '2026-04-06', '2026-04-05T11:15:00Z', '2026-04-06T11:15:00Z', 24);
  });

  it('UTC days run from 00:00Z to 00:00Z, across month and year ends', () => {
    expectDay('UTC', '2026-12-31T23:59:59.999Z', '2026-12-31', '2026-12-31T00:00:00Z', '2027-01-01T00:00:00Z', 24);
    expectDay('UTC', '2028-02-29T00:00:00Z', '2028-02-29', '2028-02-29T00:00:00Z', '2028-03-01T00:00:00Z', 24);
  });

  const ZONES = [
    'UTC',
    'America/New_York',
    'America/Los_Angeles',
    'America/Havana',
    'America/Santiago',
    'America/Sao_Paulo',
    'Europe/Berlin',
    'Europe/London',
    'Asia/Tokyo',
    'Asia/Kolkata',
    'Australia/Sydney',
    'Australia/Lord_Howe',
    'Pacific/Chatham',
    'Pacific/Auckland',
    'Pacific/Kiritimati',
    'Pacific/Pago_Pago',
  ];

  it.each(ZONES)('%s: over a whole year of consecutive days, each day ends where the next starts', (zone) => {
    let day = localDay(zone, at('2026-01-01T12:00:00Z'));
    for (let i = 0; i < 366; i++) {
      const next = localDay(zone, day.end);
      expect(next.start, `${zone} ${day.date}`).toBe(day.end);
      expect(next.date > day.date, `${zone} ${day.date} → ${next.date}`).toBe(true);
      expect(referenceDate(zone, day.start)).toBe(day.date);
      expect(referenceDate(zone, day.end - 1)).toBe(day.date);
      expect(referenceDate(zone, day.start - 1) < day.date).toBe(true);
      expect([23, 23.5, 24, 24.5, 25]).toContain((day.end - day.start) / HOUR);
      day = next;
    }
  });

  it('property: the day containing any instant starts at or before it, ends after it, and agrees with Intl', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2040-01-01T00:00:00Z') }),
        (zone, t) => {
          const day = localDay(zone, t);
          expect(day.start).toBeLessThanOrEqual(t);
          expect(day.end).toBeGreaterThan(t);
          expect(day.date).toBe(referenceDate(zone, t));
          expect(day.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
          expect(referenceDate(zone, day.start - 1) < day.date).toBe(true);
          expect(referenceDate(zone, day.end) > day.date).toBe(true);
          // Asking again from any instant of the same day gives the same day.
          expect(localDay(zone, day.start)).toEqual(day);
          expect(localDay(zone, day.end - 1)).toEqual(day);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('localHour', () => {
  it('reads the wall-clock hour across the New York spring-forward gap (01 → 03)', () => {
    expect(localHour('America/New_York', at('2026-03-08T06:59:59Z'))).toBe(1);
    expect(localHour('America/New_York', at('2026-03-08T07:00:00Z'))).toBe(3);
  });

  it('reads hour 1 twice on the New York fall-back day', () => {
    expect(localHour('America/New_York', at('2026-11-01T05:30:00Z'))).toBe(1);
    expect(localHour('America/New_York', at('2026-11-01T06:30:00Z'))).toBe(1);
  });

  it('reports midnight as 0, never 24', () => {
    expect(localHour('Asia/Tokyo', at('2026-03-08T15:00:00Z'))).toBe(0);
    expect(localHour('UTC', at('2026-03-08T00:00:00Z'))).toBe(0);
  });

  it('property: Tokyo is always UTC + 9 hours, UTC is the UTC hour', () => {
    fc.assert(
      fc.property(fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2040-01-01T00:00:00Z') }), (t) => {
        const utcHour = new Date(t).getUTCHours();
        expect(localHour('UTC', t)).toBe(utcHour);
        expect(localHour('Asia/Tokyo', t)).toBe((utcHour + 9) % 24);
      }),
    );
  });

  it('property: the hour is within 0-23 and matches the zone offset in Kolkata (+05:30)', () => {
    fc.assert(
      fc.property(fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2040-01-01T00:00:00Z') }), (t) => {
        const h = localHour('Asia/Kolkata', t);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThan(24);
        expect(h).toBe(new Date(t + 5.5 * HOUR).getUTCHours());
      }),
    );
  });

  it('is consistent with localDay: a day that starts at local midnight starts at hour 0', () => {
    const day = localDay('Europe/Berlin', at('2026-06-15T12:00:00Z'));
    expect(localHour('Europe/Berlin', day.start)).toBe(0);
    expect(localHour('Europe/Berlin', day.end - 1)).toBe(23);
    expect(day.end - day.start).toBe(DAY);
  });
});
