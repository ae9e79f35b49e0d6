import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deduper } from '../../src/engine/dedupe.js';

const MIN = 60_000;
const T0 = Date.parse('2026-11-02T00:00:00Z');

describe('dedupe window', () => {
  it('recognises an id redelivered within the horizon, and only that id', () => {
    const d = new Deduper(15 * MIN);
    expect(d.isDuplicate('e-1', T0)).toBe(false);
    expect(d.isDuplicate('e-2', T0 + MIN)).toBe(false);
    expect(d.isDuplicate('e-1', T0 + 15 * MIN - 1)).toBe(true);
    expect(d.isDuplicate('e-2', T0 + 16 * MIN - 1)).toBe(true);
    expect(d.isDuplicate('e-3', T0 + 16 * MIN)).toBe(false);
  });

  it('forgets ids once newest event time is two horizons past them', () => {
    const d = new Deduper(15 * MIN);
    d.isDuplicate('e-1', T0);
    d.isDuplicate('e-2', T0 + 31 * MIN);
    expect(d.isDuplicate('e-1', T0 + 31 * MIN)).toBe(false);
  });

  it('a jump in event time beyond both generations forgets everything before it', () => {
    const d = new Deduper(15 * MIN);
    d.isDuplicate('e-1', T0);
    d.isDuplicate('e-2', T0 + 10 * MIN);
    d.isDuplicate('e-3', T0 + 24 * 60 * MIN);
    expect(d.size).toBe(1);
  });

  it('memory is bounded by the event rate: a day at one event per second keeps at most two horizons of ids', () => {
    const d = new Deduper(15 * MIN);
    for (let s = 0; s < 86_400; s++) d.isDuplicate(`e-${s}`, T0 + s * 1000);
    expect(d.size).toBeLessThanOrEqual(2 * 15 * 60);
    expect(d.size).toBeGreaterThanOrEqual(15 * 60);
  });

  it('snapshot and restore keep what is remembered (through JSON, as checkpoints carry it)', () => {
    const d = new Deduper(15 * MIN);
    d.isDuplicate('e-1', T0);
    d.isDuplicate('e-2', T0 + 20 * MIN);
    const copy = new Deduper(15 * MIN);
    copy.restore(JSON.parse(JSON.stringify(d.snapshot())));
    expect(copy.isDuplicate('e-1', T0 + 20 * MIN)).toBe(true);
    expect(copy.isDuplicate('e-2', T0 + 20 * MIN)).toBe(true);
    expect(copy.isDuplicate('e-3', T0 + 20 * MIN)).toBe(false);
    expect(copy.size).toBe(3);
  });

  it('property: a redelivery within the horizon of its first sighting is always a duplicate', () => {
    const step = fc.record({ id: fc.integer({ min: 0, max: 30 }), advance: fc.integer({ min: 0, max: 10 * MIN }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const horizon = 15 * MIN;
        const d = new Deduper(horizon);
        const firstSeen = new Map<number, number>();
        let newest = T0;
        for (const { id, advance } of steps) {
          newest += advance;
          const dup = d.isDuplicate(`e-${id}`, newest);
          const first = firstSeen.get(id);
          if (first !== undefined && newest - first < horizon) expect(dup).toBe(true);
          // Remembered at most two horizons: beyond that an id is new again.
          if (first === undefined || newest - first >= 2 * horizon) expect(dup).toBe(false);
          if (!dup) firstSeen.set(id, newest);
        }
      }),
      { numRuns: 500 },
    );
  });
});
