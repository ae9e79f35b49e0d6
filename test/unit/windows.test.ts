import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addToBuckets, busyBuckets, newBuckets } from '../../src/engine/window/buckets.js';
import { addToCadence, cadenceStats, newCadence } from '../../src/engine/window/cadence.js';
import { addDistinct, countDistinct, distinctInWindow, newDistinct } from '../../src/engine/window/distinct.js';
import { inFlightAt, newInFlight, requestEnded, requestStarted } from '../../src/engine/window/inflight.js';
import {
  addTimestamp,
  countInWindow,
  fullestWindowContaining,
  newTimestamps,
  type Timestamps,
} from '../../src/engine/window/timestamps.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** An arbitrary fixed instant, far from zero so that `end − width` stays positive. */
const T = Date.parse('2026-05-10T12:00:00Z');

// ---------------------------------------------------------------------------------------------------------------------
// Brute-force models
// ---------------------------------------------------------------------------------------------------------------------

function countBetween(times: readonly number[], end: number, width: number): number {
  return times.filter((t) => t > end - width && t <= end).length;
}

function timestampsOf(times: readonly number[], width: number, capacity: number): Timestamps {
  const w = newTimestamps();
  for (const t of times) addTimestamp(w, t, width, capacity);
  return w;
}

/**
 * What the window must hold after any sequence of inserts: eviction only ever drops times at or before
 * `newest − width` (no window ending at or after the newest time can need them) and, beyond that, the oldest
 * times over `capacity`. Both rules are monotone in the newest time, so the order of insertion does not matter.
 */
function expectedKept(times: readonly number[], width: number, capacity: number): number[] {
  if (times.length === 0) return [];
  const newest = Math.max(...times);
  const live = [...times].sort((a, b) => a - b).filter((t) => t > newest - width);
  return capacity === 0 ? [] : live.slice(-capacity);
}

/** Counts per epoch-aligned bucket index. */
function bucketCounts(times: readonly number[], width: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const t of times) {
    const i = Math.floor(t / width);
    counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  return counts;
}

function busyBetween(counts: Map<number, number>, from: number, to: number, minEvents: number): number {
  let busy = 0;
  for (let i = from; i <= to; i++) if ((counts.get(i) ?? 0) >= minEvents) busy++;
  return busy;
}

function populationCv(gaps: readonly number[]): { mean: number; cv: number } {
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  const variance = gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length;
  return { mean, cv: mean === 0 ? Number.POSITIVE_INFINITY : Math.sqrt(variance) / mean };
}

/** Small deterministic PRNG (mulberry32) so "random" human gaps are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const shuffled = <A>(xs: readonly A[], order: readonly number[]): A[] =>
  xs
    .map((x, i) => ({ x, k: order[i % order.length]! }))
    .sort((a, b) => a.k - b.k)
    .map(({ x }) => x);

// ---------------------------------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------------------------------

describe('timestamps: sliding window over (end − width, end]', () => {
  const width = 60 * SECOND;
  const capacity = 100;

  it('leaves out an event exactly `width` before the end', () => {
    const w = timestampsOf([T - width], width, capacity);
    expect(countInWindow(w, T, width)).toBe(0);
  });

  it('counts an event 1 ms less than `width` before the end', () => {
    const w = timestampsOf([T - width + 1], width, capacity);
    expect(countInWindow(w, T, width)).toBe(1);
  });

  it('counts an event exactly at the end but not one 1 ms after it', () => {
    const w = timestampsOf([T, T + 1], width, capacity);
    expect(countInWindow(w, T, width)).toBe(1);
    expect(countInWindow(w, T + 1, width)).toBe(2);
  });

  it('forgets a time once the newest time is `width` or more after it', () => {
    const w = timestampsOf([T - width, T - width + 1, T], width, capacity);
    expect(w.ts).toEqual([T - width + 1, T]);
  });

  it('reaches a threshold of N only when the N-th event falls inside the window (N−1 is not enough)', () => {
    const threshold = 5;
    // Four events inside the window, plus one exactly on the open edge: N − 1 in the window.
    const edge = [T - width, T - 40 * SECOND, T - 30 * SECOND, T - 20 * SECOND, T];
    expect(countInWindow(timestampsOf(edge, width, capacity), T, width)).toBe(threshold - 1);
    // Move the edge event 1 ms inside: N.
    const inside = [T - width + 1, ...edge.slice(1)];
    expect(countInWindow(timestampsOf(inside, width, capacity), T, width)).toBe(threshold);
  });

  it('inserts a late event in time order', () => {
    const w = timestampsOf([T, T + 30 * SECOND, T + 10 * SECOND, T + 20 * SECOND, T + 5 * SECOND], width, capacity);
    expect(w.ts).toEqual([T, T + 5 * SECOND, T + 10 * SECOND, T + 20 * SECOND, T + 30 * SECOND]);
    expect(countInWindow(w, T + 10 * SECOND, width)).toBe(3);
  });

  it('inserts a late event equal to kept times next to them', () => {
    const w = timestampsOf([T, T + 2, T + 1, T + 1], width, capacity);
    expect(w.ts).toEqual([T, T + 1, T + 1, T + 2]);
  });

  it('drops a late event that is already beyond the horizon of the newest time', () => {
    const w = timestampsOf([T, T - width], width, capacity);
    expect(w.ts).toEqual([T]);
  });

  it('keeps only the newest `capacity` times, so a full window reads as "at least capacity"', () => {
    const w = timestampsOf([T + 1, T + 2, T + 3, T + 4, T + 5], width, 3);
    expect(w.ts).toEqual([T + 3, T + 4, T + 5]);
    expect(countInWindow(w, T + 5, width)).toBe(3);
  });

  it('at capacity, a late event older than every kept time is dropped and a newer one displaces the oldest', () => {
    const w = timestampsOf([T + 10, T + 20, T + 30], width, 3);
    addTimestamp(w, T + 5, width, 3);
    expect(w.ts).toEqual([T + 10, T + 20, T + 30]);
    addTimestamp(w, T + 15, width, 3);
    expect(w.ts).toEqual([T + 15, T + 20, T + 30]);
  });

  it('for in-order events the fullest window containing the newest time is the one ending at it', () => {
    const w = timestampsOf([T, T + 10 * SECOND, T + 20 * SECOND], width, capacity);
    expect(fullestWindowContaining(w, T + 20 * SECOND, width)).toEqual({ count: 3, end: T + 20 * SECOND });
  });

  it('finds the window a late event completes, which ends at a later kept time', () => {
    // Events at 10 s and 65 s are never 3 in one window; a late one at 20 s makes (5 s, 65 s] hold all three.
    const w = timestampsOf([T + 10 * SECOND, T + 65 * SECOND], width, capacity);
    addTimestamp(w, T + 20 * SECOND, width, capacity);
    expect(countInWindow(w, T + 20 * SECOND, width)).toBe(2);
    expect(fullestWindowContaining(w, T + 20 * SECOND, width)).toEqual({ count: 3, end: T + 65 * SECOND });
  });

  it('ignores windows ending `width` or more after t, which no longer contain it', () => {
    // (20 s, 80 s] holds 3 events but excludes 20 s; the fullest window containing 20 s ends at 50 s with 2.
    const w = timestampsOf([T + 30 * SECOND, T + 50 * SECOND, T + 80 * SECOND], width, capacity);
    expect(countInWindow(w, T + 80 * SECOND, width)).toBe(3);
    expect(fullestWindowContaining(w, T + 20 * SECOND, width)).toEqual({ count: 2, end: T + 50 * SECOND });
  });

  describe('properties (brute force)', () => {
    const times = fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 80 });
    const widthArb = fc.integer({ min: 1, max: 3_000 });
    const ends = fc.array(fc.integer({ min: -3_000, max: 14_000 }), { minLength: 1, maxLength: 20 });
    /** Sorted, shuffled, or left as generated. */
    const arrival = fc.constantFrom('sorted', 'shuffled', 'as-generated');
    const order = fc.array(fc.nat(), { minLength: 1, maxLength: 80 });

    function arrange(xs: number[], how: string, ord: number[]): number[] {
      if (how === 'sorted') return [...xs].sort((a, b) => a - b);
      if (how === 'shuffled') return shuffled(xs, ord);
      return xs;
    }

    it('holds exactly the newest `capacity` times after the horizon of the newest time, whatever the arrival order', () => {
      fc.assert(
        fc.property(times, widthArb, fc.integer({ min: 1, max: 100 }), arrival, order, (xs, width, capacity, how, ord) => {
          const input = arrange(xs, how, ord);
          expect(timestampsOf(input, width, capacity).ts).toEqual(expectedKept(input, width, capacity));
        }),
      );
    });

    it('with capacity ≥ number of events, counts every event for any window ending at or after the newest time', () => {
      fc.assert(
        fc.property(times, widthArb, arrival, order, ends, (xs, width, how, ord, offsets) => {
          const input = arrange(xs, how, ord);
          const w = timestampsOf(input, width, input.length + 1);
          const newest = input.length ? Math.max(...input) : 0;
          for (const offset of offsets) {
            const end = newest + Math.abs(offset);
            expect(countInWindow(w, end, width)).toBe(countBetween(input, end, width));
          }
        }),
      );
    });

    it('with capacity ≥ number of events, a window ending before the newest time misses only times at or before its horizon', () => {
      fc.assert(
        fc.property(times, widthArb, arrival, order, ends, (xs, width, how, ord, queryEnds) => {
          const input = arrange(xs, how, ord);
          const w = timestampsOf(input, width, input.length + 1);
          const newest = input.length ? Math.max(...input) : 0;
          const live = input.filter((t) => t > newest - width);
          for (const end of queryEnds) expect(countInWindow(w, end, width)).toBe(countBetween(live, end, width));
        }),
      );
    });

    it('with any capacity, a window ending at or after the newest time counts min(true count, capacity)', () => {
      fc.assert(
        fc.property(times, widthArb, fc.integer({ min: 1, max: 40 }), arrival, order, ends, (xs, width, capacity, how, ord, offsets) => {
          const input = arrange(xs, how, ord);
          const w = timestampsOf(input, width, capacity);
          const newest = input.length ? Math.max(...input) : 0;
          for (const offset of offsets) {
            const end = newest + Math.abs(offset);
            expect(countInWindow(w, end, width)).toBe(Math.min(countBetween(input, end, width), capacity));
          }
        }),
      );
    });

    it('after every in-order insert, the window ending at the event counts min(true count so far, capacity)', () => {
      fc.assert(
        fc.property(times, widthArb, fc.integer({ min: 1, max: 40 }), (xs, width, capacity) => {
          const input = [...xs].sort((a, b) => a - b);
          const w = newTimestamps();
          input.forEach((t, i) => {
            addTimestamp(w, t, width, capacity);
            expect(countInWindow(w, t, width)).toBe(Math.min(countBetween(input.slice(0, i + 1), t, width), capacity));
          });
        }),
      );
    });

    it('fullestWindowContaining(t) is the best window over the kept times among those containing t', () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 40 }),
          fc.integer({ min: 1, max: 500 }),
          fc.integer({ min: 1, max: 60 }),
          order,
          (xs, width, capacity, ord) => {
            const input = shuffled(xs, ord);
            const w = timestampsOf(input, width, capacity);
            const kept = expectedKept(input, width, capacity);
            for (const t of new Set(kept)) {
              let best = 0;
              for (let end = t; end < t + width; end++) best = Math.max(best, countBetween(kept, end, width));
              const found = fullestWindowContaining(w, t, width);
              expect(found.count).toBe(best);
              // The window it names contains t and really holds that many.
              expect(found.end).toBeGreaterThanOrEqual(t);
              expect(found.end - width).toBeLessThan(t);
              expect(countInWindow(w, found.end, width)).toBe(found.count);
            }
          },
        ),
      );
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Distinct values
// ---------------------------------------------------------------------------------------------------------------------

describe('distinct: values seen in (newest − width, newest] of the key', () => {
  const width = 60 * SECOND;

  function distinctOf(events: ReadonlyArray<[string, number]>, capacity = 10) {
    const d = newDistinct();
    for (const [value, t] of events) addDistinct(d, value, t, width, capacity);
    return d;
  }

  const sorted = (xs: string[]): string[] => [...xs].sort();

  it('counts each value once and tracks when it was last seen', () => {
    const d = distinctOf([['a', T], ['b', T + 1], ['a', T + 2]]);
    expect(sorted(distinctInWindow(d, width))).toEqual(['a', 'b']);
    expect(countDistinct(d, width)).toBe(2);
    expect(d.lastSeen[d.values.indexOf('a')]).toBe(T + 2);
  });

  it('does not move last-seen back for a late repeat of a value', () => {
    const d = distinctOf([['a', T + 10], ['a', T]]);
    expect(d.lastSeen).toEqual([T + 10]);
  });

  it('expires a value last seen exactly `width` before the newest time', () => {
    const d = distinctOf([['a', T], ['b', T + width]]);
    expect(d.values).toEqual(['b']);
    expect(distinctInWindow(d, width)).toEqual(['b']);
    expect(countDistinct(d, width)).toBe(1);
  });

  it('keeps a value last seen 1 ms less than `width` before the newest time', () => {
    const d = distinctOf([['a', T], ['b', T + width - 1]]);
    expect(sorted(distinctInWindow(d, width))).toEqual(['a', 'b']);
    expect(countDistinct(d, width)).toBe(2);
  });

  it('a repeat inside the window refreshes a value so it outlives its first sighting', () => {
    const d = distinctOf([['a', T], ['a', T + 30 * SECOND], ['b', T + width]]);
    expect(sorted(distinctInWindow(d, width))).toEqual(['a', 'b']);
  });

  it('counts a late new value inside the window and drops one at or beyond its horizon', () => {
    const d = distinctOf([['a', T + width], ['b', T + 1], ['c', T]]);
    expect(sorted(distinctInWindow(d, width))).toEqual(['a', 'b']);
    expect(countDistinct(d, width)).toBe(2);
  });

  it('at capacity evicts the least recently seen value', () => {
    const d = distinctOf([['a', T], ['b', T + 1], ['a', T + 2], ['c', T + 3]], 2); // a refreshed after b
    expect(sorted(distinctInWindow(d, width))).toEqual(['a', 'c']);
    expect(countDistinct(d, width)).toBe(2);
  });

  describe('properties (brute force)', () => {
    const events = fc
      .array(fc.record({ value: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), gap: fc.integer({ min: 0, max: 400 }) }), {
        minLength: 1,
        maxLength: 80,
      })
      .map((xs) => {
        let t = T;
        return xs.map(({ value, gap }) => ({ value, t: (t += gap) }));
      });

    /** Each value's last-seen time, for values seen in (newest − width, newest]. */
    function bruteDistinct(seen: ReadonlyArray<{ value: string; t: number }>, width: number): Map<string, number> {
      const newest = Math.max(...seen.map((e) => e.t));
      const last = new Map<string, number>();
      for (const { value, t } of seen) if (t > newest - width) last.set(value, Math.max(last.get(value) ?? t, t));
      return last;
    }

    it('in order, with capacity ≥ distinct values: matches the brute-force distinct set after every event', () => {
      fc.assert(
        fc.property(events, fc.integer({ min: 1, max: 2_000 }), (evs, width) => {
          const d = newDistinct();
          evs.forEach(({ value, t }, i) => {
            addDistinct(d, value, t, width, 8);
            const expected = [...bruteDistinct(evs.slice(0, i + 1), width).keys()].sort();
            expect(sorted(distinctInWindow(d, width))).toEqual(expected);
            expect(countDistinct(d, width)).toBe(expected.length);
          });
        }),
      );
    });

    it('in order, with a smaller capacity: counts min(distinct, capacity) and keeps the most recently seen values', () => {
      fc.assert(
        fc.property(events, fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 8 }), (evs, width, capacity) => {
          const d = newDistinct();
          evs.forEach(({ value, t }, i) => {
            addDistinct(d, value, t, width, capacity);
            const last = bruteDistinct(evs.slice(0, i + 1), width);
            const got = distinctInWindow(d, width);
            expect(got.length).toBe(Math.min(last.size, capacity));
            expect(countDistinct(d, width)).toBe(got.length);
            // Kept values carry their true last-seen time, and no value left out was seen later than a kept one
            // (ties at the boundary may go either way).
            const oldestKept = Math.min(...got.map((v) => last.get(v)!));
            for (const v of got) expect(d.lastSeen[d.values.indexOf(v)]).toBe(last.get(v));
            for (const [v, seen] of last) if (!got.includes(v)) expect(seen).toBeLessThanOrEqual(oldestKept);
          });
        }),
      );
    });

    it('in any arrival order: the count after the last event equals min(brute-force distinct, capacity)', () => {
      fc.assert(
        fc.property(
          events,
          fc.array(fc.nat(), { minLength: 1, maxLength: 80 }),
          fc.integer({ min: 1, max: 2_000 }),
          fc.integer({ min: 1, max: 9 }),
          (evs, ord, width, capacity) => {
            const input = shuffled(evs, ord);
            const d = newDistinct();
            for (const { value, t } of input) addDistinct(d, value, t, width, capacity);
            const last = bruteDistinct(input, width);
            expect(countDistinct(d, width)).toBe(Math.min(last.size, capacity));
            if (capacity >= 8) expect(sorted(distinctInWindow(d, width))).toEqual([...last.keys()].sort());
          },
        ),
      );
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Buckets
// ---------------------------------------------------------------------------------------------------------------------

describe('buckets: epoch-aligned fixed buckets, K busy of the last M', () => {
  const width = HOUR;
  const H0 = Math.floor(T / HOUR) * HOUR; // start of an epoch-aligned hour

  function fill(b: ReturnType<typeof newBuckets>, hour: number, n: number): void {
    for (let k = 0; k < n; k++) addToBuckets(b, H0 + hour * HOUR + k * SECOND, width);
  }

  it('aligns buckets to the epoch: the last ms of an hour and the first of the next are in different buckets', () => {
    const b = newBuckets(3);
    addToBuckets(b, H0 - 1, width);
    addToBuckets(b, H0, width);
    expect(busyBuckets(b, H0, width, 1)).toBe(2);
    expect(busyBuckets(b, H0, width, 2)).toBe(0);
  });

  it('counts a bucket busy at exactly minEvents, not at minEvents − 1', () => {
    const b = newBuckets(4);
    fill(b, 0, 4);
    fill(b, 1, 5);
    expect(busyBuckets(b, H0 + HOUR, width, 5)).toBe(1);
    expect(busyBuckets(b, H0 + HOUR, width, 4)).toBe(2);
  });

  it('looks at only the last M buckets up to the query time', () => {
    const b = newBuckets(3);
    for (let h = 0; h < 3; h++) fill(b, h, 2);
    expect(busyBuckets(b, H0 + 2 * HOUR, width, 2)).toBe(3);
    // Asked about hour 1, only hours 0 and 1 are at or before it.
    expect(busyBuckets(b, H0 + HOUR, width, 2)).toBe(2);
  });

  it('zeroes the buckets skipped over by a short idle gap and keeps the ones still in range', () => {
    const b = newBuckets(4);
    for (let h = 0; h < 4; h++) fill(b, h, 5);
    fill(b, 5, 1); // hour 4 idle; range is now hours 2..5
    expect(busyBuckets(b, H0 + 5 * HOUR, width, 5)).toBe(2); // hours 2 and 3
    expect(busyBuckets(b, H0 + 5 * HOUR, width, 1)).toBe(3); // hours 2, 3 and 5 (4 is empty)
  });

  it('forgets every old bucket after an idle gap longer than M, keeping only the new one', () => {
    const b = newBuckets(4);
    for (let h = 0; h < 4; h++) fill(b, h, 5);
    fill(b, 10, 1);
    expect(busyBuckets(b, H0 + 10 * HOUR, width, 1)).toBe(1);
    expect(b.entries).toEqual([H0 / HOUR + 10, 1]);
  });

  it('keeps only buckets that saw events, in order, late ones inserted in place', () => {
    const b = newBuckets(24);
    fill(b, 2, 3);
    fill(b, 7, 1);
    addToBuckets(b, H0 + 5 * HOUR, width);
    expect(b.entries).toEqual([H0 / HOUR + 2, 3, H0 / HOUR + 5, 1, H0 / HOUR + 7, 1]);
  });

  it('adds a late event to its own bucket when that bucket is still kept', () => {
    const b = newBuckets(4);
    fill(b, 3, 1);
    addToBuckets(b, H0 + HOUR + 5, width); // hour 1 is within the last 4 of hour 3
    expect(busyBuckets(b, H0 + 3 * HOUR, width, 1)).toBe(2);
  });

  it('ignores a late event older than every kept bucket instead of adding it to the slot it shares with a newer one', () => {
    const b = newBuckets(4);
    fill(b, 10, 1);
    addToBuckets(b, H0 + 6 * HOUR, width); // hour 6 shares slot 6 % 4 = 10 % 4 with hour 10
    expect(busyBuckets(b, H0 + 10 * HOUR, width, 2)).toBe(0);
    expect(busyBuckets(b, H0 + 10 * HOUR, width, 1)).toBe(1);
  });

  describe('properties (brute force)', () => {
    const params = fc.record({
      of: fc.integer({ min: 1, max: 8 }),
      width: fc.integer({ min: 1, max: 100 }),
      minEvents: fc.integer({ min: 1, max: 4 }),
    });
    const inOrderTimes = fc
      .array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 120 })
      .map((gaps) => {
        let t = 1_000_000;
        return gaps.map((g) => (t += g));
      });

    it('in order: the busy count at each event equals a brute-force count over all events so far', () => {
      fc.assert(
        fc.property(params, inOrderTimes, ({ of, width, minEvents }, times) => {
          const b = newBuckets(of);
          times.forEach((t, i) => {
            addToBuckets(b, t, width);
            const head = Math.floor(t / width);
            const expected = busyBetween(bucketCounts(times.slice(0, i + 1), width), head - of + 1, head, minEvents);
            expect(busyBuckets(b, t, width, minEvents)).toBe(expected);
          });
        }),
      );
    });

    it('late within M (or later): counts equal brute force over every event so far, asked at the newest time or at the late event', () => {
      const lateTimes = fc
        .array(fc.record({ gap: fc.integer({ min: 0, max: 300 }), lateBy: fc.integer({ min: 0, max: 1_000 }) }), {
          minLength: 1,
          maxLength: 120,
        })
        .map((xs) => {
          let newest = 1_000_000;
          return xs.map(({ gap, lateBy }) => {
            newest += gap;
            return Math.max(0, newest - lateBy);
          });
        });
      fc.assert(
        fc.property(params, lateTimes, ({ of, width, minEvents }, times) => {
          const b = newBuckets(of);
          let newest = Number.NEGATIVE_INFINITY;
          times.forEach((t, i) => {
            addToBuckets(b, t, width);
            newest = Math.max(newest, t);
            const head = Math.floor(newest / width);
            const counts = bucketCounts(times.slice(0, i + 1), width);
            // At the newest time: the last M buckets, whatever arrived late (buckets older than M are out of range).
            expect(busyBuckets(b, newest, width, minEvents)).toBe(busyBetween(counts, head - of + 1, head, minEvents));
            // At the late event: the kept buckets up to and including its own.
            const own = Math.floor(t / width);
            expect(busyBuckets(b, t, width, minEvents)).toBe(busyBetween(counts, Math.max(own, head) - of + 1, own, minEvents));
          });
        }),
      );
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Cadence
// ---------------------------------------------------------------------------------------------------------------------

describe('cadence: ring of gaps and their coefficient of variation', () => {
  function cadenceOf(times: readonly number[], samples: number) {
    const c = newCadence();
    for (const t of times) addToCadence(c, t, samples);
    return c;
  }

  it('has no samples and an infinite cv before a second event', () => {
    expect(cadenceStats(cadenceOf([], 30))).toEqual({ samples: 0, meanGap: 0, cv: Number.POSITIVE_INFINITY });
    expect(cadenceStats(cadenceOf([T], 30))).toEqual({ samples: 0, meanGap: 0, cv: Number.POSITIVE_INFINITY });
  });

  it('gives cv 0 for perfectly regular gaps (a script ticking)', () => {
    const times = Array.from({ length: 31 }, (_, i) => T + i * 7 * SECOND);
    expect(cadenceStats(cadenceOf(times, 30))).toEqual({ samples: 30, meanGap: 7 * SECOND, cv: 0 });
  });

  it('gives cv above 0.5 for human-like irregular gaps', () => {
    for (const seed of [1, 2, 3, 42, 2026]) {
      const random = mulberry32(seed);
      let t = T;
      // Exponential think times around 40 s, with occasional long breaks.
      const times = Array.from({ length: 31 }, () => {
        const gap = -Math.log(1 - random()) * 40 * SECOND + (random() < 0.1 ? 10 * MINUTE : 0);
        return (t += Math.round(gap));
      });
      expect(cadenceStats(cadenceOf(times, 30)).cv).toBeGreaterThan(0.5);
    }
  });

  it('ignores a late event and measures the next gap from the newest event', () => {
    const c = cadenceOf([T, T + 10 * SECOND], 30);
    addToCadence(c, T + 5 * SECOND, 30);
    expect(c.gaps).toEqual([10 * SECOND]);
    addToCadence(c, T + 20 * SECOND, 30);
    expect(c.gaps).toEqual([10 * SECOND, 10 * SECOND]);
    expect(cadenceStats(c).cv).toBe(0);
  });

  it('counts an event at the same time as the last as a gap of 0, not as late', () => {
    const c = cadenceOf([T, T], 30);
    expect(c.gaps).toEqual([0]);
  });

  it('keeps only the last `samples` gaps', () => {
    // Gaps 1, 2, 3, 4, 5 s; with 3 samples only 3, 4 and 5 s remain.
    const c = cadenceOf([T, T + 1_000, T + 3_000, T + 6_000, T + 10_000, T + 15_000], 3);
    expect([...c.gaps].sort((a, b) => a - b)).toEqual([3_000, 4_000, 5_000]);
    expect(cadenceStats(c).meanGap).toBe(4_000);
  });

  it('property: stats equal a brute force over the last k gaps of the in-order events (late ones left out)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.integer({ min: 1, max: 100_000 }), late: fc.integer({ min: 0, max: 200_000 }) }), {
          minLength: 0,
          maxLength: 100,
        }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        (steps, samples, withLate) => {
          const c = newCadence();
          const inOrder: number[] = [];
          let t = T;
          addToCadence(c, t, samples);
          inOrder.push(t);
          for (const { gap, late } of steps) {
            if (withLate && late > 0) addToCadence(c, t - Math.min(late, 100_000), samples); // strictly before the newest
            t += gap;
            addToCadence(c, t, samples);
            inOrder.push(t);
          }
          const gaps = inOrder.slice(1).map((x, i) => x - inOrder[i]!);
          const lastK = gaps.slice(-samples);
          const stats = cadenceStats(c);
          expect(stats.samples).toBe(lastK.length);
          expect([...c.gaps].sort((a, b) => a - b)).toEqual([...lastK].sort((a, b) => a - b));
          if (lastK.length > 0) {
            const { mean, cv } = populationCv(lastK);
            expect(stats.meanGap).toBeCloseTo(mean, 6);
            expect(stats.cv).toBeCloseTo(cv, 9);
          }
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// In flight
// ---------------------------------------------------------------------------------------------------------------------

describe('inflight: requests from start until end or timeout', () => {
  const timeout = 15 * MINUTE;

  it('counts a started request until it ends', () => {
    const f = newInFlight();
    requestStarted(f, 'r1', T);
    requestStarted(f, 'r2', T + 1);
    expect(inFlightAt(f, T + 2, timeout)).toBe(2);
    requestEnded(f, 'r1');
    expect(inFlightAt(f, T + 3, timeout)).toBe(1);
    expect(f.requestIds).toEqual(['r2']);
  });

  it('ignores a duplicate start, which neither counts twice nor restarts the timeout', () => {
    const f = newInFlight();
    requestStarted(f, 'r1', T);
    requestStarted(f, 'r1', T + 10 * MINUTE);
    expect(inFlightAt(f, T + 10 * MINUTE, timeout)).toBe(1);
    expect(inFlightAt(f, T + timeout, timeout)).toBe(0);
  });

  it('treats an end without a start as harmless', () => {
    const f = newInFlight();
    requestStarted(f, 'r1', T);
    expect(() => requestEnded(f, 'never-started')).not.toThrow();
    requestEnded(f, 'r1');
    requestEnded(f, 'r1'); // a redelivered end
    expect(inFlightAt(f, T + 1, timeout)).toBe(0);
    requestStarted(f, 'r2', T + 2);
    expect(inFlightAt(f, T + 3, timeout)).toBe(1);
  });

  it('expires a request started exactly `timeout` ago, but not one started 1 ms later', () => {
    const f = newInFlight();
    requestStarted(f, 'old', T);
    requestStarted(f, 'newer', T + 1);
    expect(inFlightAt(f, T + timeout - 1, timeout)).toBe(2);
    expect(inFlightAt(f, T + timeout, timeout)).toBe(1);
    expect(f.requestIds).toEqual(['newer']);
  });

  it('tracks at most 512 requests, forgetting the oldest start', () => {
    const f = newInFlight();
    for (let i = 0; i < 600; i++) requestStarted(f, `r${i}`, T + i);
    expect(inFlightAt(f, T + 600, timeout)).toBe(512);
    expect(f.requestIds[0]).toBe('r88');
    expect(f.requestIds).not.toContain('r87');
    expect(Math.min(...f.startedAt)).toBe(T + 88);
  });

  it('at the bound, a late start older than every tracked one is the one forgotten', () => {
    const f = newInFlight();
    for (let i = 0; i < 512; i++) requestStarted(f, `r${i}`, T + 100 + i);
    requestStarted(f, 'late', T);
    expect(f.requestIds).toHaveLength(512);
    expect(f.requestIds).not.toContain('late');
    expect(f.requestIds).toContain('r0');
  });
});
