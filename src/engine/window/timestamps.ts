/**
 * Event times of one key in a sliding window, sorted, for exact counts over `(t − width, t]`.
 * Only the newest `capacity` times are kept: a count at the capacity means "at least that many",
 * which is all a threshold needs, and keeps a key's memory bounded however fast it sends.
 */
export interface Timestamps {
  ts: number[];
}

export function newTimestamps(): Timestamps {
  return { ts: [] };
}

/** Index of the first time strictly greater than `t`. */
function upperBound(ts: readonly number[], t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Records an event time (late ones land in order) and forgets times that no window can need any more. The kept times
 * go into an exact-size array: a pushed-onto array keeps up to 16 spare slots, most of a quiet key's window.
 */
export function addTimestamp(w: Timestamps, t: number, width: number, capacity: number): void {
  const ts = w.ts;
  const at = ts.length === 0 || t >= ts[ts.length - 1]! ? ts.length : upperBound(ts, t);
  const newest = Math.max(t, ts.length > 0 ? ts[ts.length - 1]! : t);
  const horizon = newest - width;
  const total = ts.length + 1;
  // Drop from the front: everything at or before the horizon, and anything beyond the capacity.
  let drop = 0;
  while (drop < total && timeAt(ts, at, t, drop) <= horizon) drop++;
  drop = Math.max(drop, total - capacity);
  // Same length as before (one in, one out: a steady key) is written in place; reads stay ahead of writes.
  const out = total - drop === ts.length ? ts : new Array<number>(total - drop);
  for (let i = drop; i < total; i++) out[i - drop] = timeAt(ts, at, t, i);
  w.ts = out;
}

/** The i-th time of `ts` with `t` inserted at `at`. */
function timeAt(ts: readonly number[], at: number, t: number, i: number): number {
  return i < at ? ts[i]! : i === at ? t : ts[i - 1]!;
}

/** Number of kept times in `(end − width, end]`. */
export function countInWindow(w: Timestamps, end: number, width: number): number {
  return upperBound(w.ts, end) - upperBound(w.ts, end - width);
}

/**
 * The fullest window that contains time `t`: the window ending at `t` and every window ending at a later kept time
 * within `width`. For in-order events this is just the window ending at `t`; a late event can complete a window that
 * ends after it.
 */
export function fullestWindowContaining(w: Timestamps, t: number, width: number): { count: number; end: number } {
  let best = { count: countInWindow(w, t, width), end: t };
  for (let i = upperBound(w.ts, t); i < w.ts.length && w.ts[i]! < t + width; i++) {
    const end = w.ts[i]!;
    const count = countInWindow(w, end, width);
    if (count > best.count) best = { count, end };
  }
  return best;
}
