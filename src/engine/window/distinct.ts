import { append } from './compact.js';

/**
 * Distinct values seen per key in a sliding window (fan-out), with when each was last seen.
 * Kept as small parallel arrays: fan-out per key is small for the people the policy protects, and bounded by
 * `capacity` (evicting the least recently seen) for the keys it is looking for.
 */
export interface DistinctValues {
  values: string[];
  lastSeen: number[];
}

export function newDistinct(): DistinctValues {
  return { values: [], lastSeen: [] };
}

/** Records a sighting and returns the newest time seen, the end of the window. */
export function addDistinct(d: DistinctValues, value: string, t: number, width: number, capacity: number): number {
  const i = d.values.indexOf(value);
  if (i >= 0) {
    if (t > d.lastSeen[i]!) d.lastSeen[i] = t;
  } else {
    d.values = append(d.values, value);
    d.lastSeen = append(d.lastSeen, t);
  }
  const newest = newestOf(d);
  for (let j = d.values.length - 1; j >= 0; j--) {
    if (d.lastSeen[j]! <= newest - width) remove(d, j);
  }
  while (d.values.length > capacity) remove(d, oldest(d));
  return newest;
}

function oldest(d: DistinctValues): number {
  let at = 0;
  for (let j = 1; j < d.lastSeen.length; j++) if (d.lastSeen[j]! < d.lastSeen[at]!) at = j;
  return at;
}

function remove(d: DistinctValues, j: number): void {
  d.values.splice(j, 1);
  d.lastSeen.splice(j, 1);
}

/**
 * The newest time seen: the end of the window the values are counted in. It is the newest value's last sighting,
 * which no eviction removes (the horizon trails it, capacity evicts the oldest), so it is not stored apart.
 */
export function newestOf(d: DistinctValues): number {
  let newest = 0;
  for (const seen of d.lastSeen) if (seen > newest) newest = seen;
  return newest;
}

/** Number of values seen in `(newest − width, newest]`. */
export function countDistinct(d: DistinctValues, width: number, newest = newestOf(d)): number {
  let n = 0;
  const horizon = newest - width;
  for (const seen of d.lastSeen) if (seen > horizon) n++;
  return n;
}

/** The values seen in `(newest − width, newest]`. */
export function distinctInWindow(d: DistinctValues, width: number, newest = newestOf(d)): string[] {
  const horizon = newest - width;
  return d.values.filter((_, j) => d.lastSeen[j]! > horizon);
}
