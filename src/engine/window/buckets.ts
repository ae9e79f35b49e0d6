import { BEGINNING } from '../../time/instant.js';
/**
 * Event counts in the last `of` fixed buckets (epoch-aligned), for sustained-throughput checks:
 * "at least K of the last M hours had N or more events".
 */
export interface Buckets {
  /** Index (time / bucket width) of the newest bucket. */
  head: number;
  /** Ring of counts; slot `i % of` holds bucket `i`. */
  counts: number[];
}

export function newBuckets(of: number): Buckets {
  return { head: BEGINNING, counts: new Array<number>(of).fill(0) };
}

export function addToBuckets(b: Buckets, t: number, width: number): void {
  const of = b.counts.length;
  const index = Math.floor(t / width);
  if (index > b.head) {
    const advance = Math.min(index - b.head, of);
    for (let k = 1; k <= advance; k++) b.counts[(index - advance + k) % of] = 0;
    b.head = index;
  } else if (index <= b.head - of) {
    return; // older than every kept bucket
  }
  b.counts[index % of]! += 1;
}

/** How many of the kept buckets, up to and including the one holding `t`, have at least `minEvents`. */
export function busyBuckets(b: Buckets, t: number, width: number, minEvents: number): number {
  const of = b.counts.length;
  const index = Math.floor(t / width);
  let busy = 0;
  for (let i = Math.max(index - of + 1, b.head - of + 1); i <= Math.min(index, b.head); i++) {
    if (b.counts[i % of]! >= minEvents) busy++;
  }
  return busy;
}
