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

export function addDistinct(d: DistinctValues, value: string, t: number, width: number, capacity: number): void {
  const i = d.values.indexOf(value);
  if (i >= 0) {
    if (t > d.lastSeen[i]!) d.lastSeen[i] = t;
  } else {
    d.values.push(value);
    d.lastSeen.push(t);
  }
  const newest = Math.max(...d.lastSeen);
  for (let j = d.values.length - 1; j >= 0; j--) {
    if (d.lastSeen[j]! <= newest - width) remove(d, j);
  }
  while (d.values.length > capacity) {
    remove(d, d.lastSeen.indexOf(Math.min(...d.lastSeen)));
  }
}

function remove(d: DistinctValues, j: number): void {
  d.values.splice(j, 1);
  d.lastSeen.splice(j, 1);
}

/** Values seen in `(end − width, end]`, for `end` at or after every kept time (the key's newest event). */
export function distinctInWindow(d: DistinctValues, end: number, width: number): string[] {
  return d.values.filter((_, j) => d.lastSeen[j]! > end - width && d.lastSeen[j]! <= end);
}
