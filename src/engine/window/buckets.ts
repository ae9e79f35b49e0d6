/**
 * Event counts in the last `of` fixed buckets (epoch-aligned), for sustained-throughput checks:
 * "at least K of the last M hours had N or more events".
 *
 * Sparse: only buckets that saw events are kept, oldest first. Most keys are busy in a few buckets of the window,
 * and a ring of `of` counts cost every key the whole window (a 24-hour ring was ~240 bytes per key).
 */
export interface Buckets {
  of: number;
  /** Bucket index (time / bucket width) and count, alternating, ascending by index; at most `of` buckets. */
  entries: number[];
}

export function newBuckets(of: number): Buckets {
  return { of, entries: [] };
}

export function addToBuckets(b: Buckets, t: number, width: number): void {
  const index = Math.floor(t / width);
  const e = b.entries;
  const head = e.length > 0 ? e[e.length - 2]! : index;
  if (index <= head - b.of) return; // older than every kept bucket
  let at = e.length - 2;
  while (at >= 0 && e[at]! > index) at -= 2;
  if (at >= 0 && e[at] === index) {
    e[at + 1]! += 1;
    return;
  }
  // A new bucket: insert in order, and drop buckets it pushes out of the window, into an exact-size array.
  const horizon = Math.max(head, index) - b.of;
  let from = 0;
  while (from < e.length && e[from]! <= horizon) from += 2;
  const out = new Array<number>(e.length - from + 2);
  let k = 0;
  for (let i = from; i <= at; i += 2) {
    out[k++] = e[i]!;
    out[k++] = e[i + 1]!;
  }
  out[k++] = index;
  out[k++] = 1;
  for (let i = Math.max(at + 2, from); i < e.length; i += 2) {
    out[k++] = e[i]!;
    out[k++] = e[i + 1]!;
  }
  b.entries = out;
}

/** How many of the kept buckets, up to and including the one holding `t`, have at least `minEvents`. */
export function busyBuckets(b: Buckets, t: number, width: number, minEvents: number): number {
  const e = b.entries;
  if (e.length === 0) return 0;
  const index = Math.floor(t / width);
  const head = e[e.length - 2]!;
  const from = Math.max(index, head) - b.of + 1;
  const to = Math.min(index, head);
  let busy = 0;
  for (let i = 0; i < e.length; i += 2) {
    if (e[i]! >= from && e[i]! <= to && e[i + 1]! >= minEvents) busy++;
  }
  return busy;
}
