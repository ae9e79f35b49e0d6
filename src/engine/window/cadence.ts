import { BEGINNING } from '../../time/instant.js';
import { append } from './compact.js';
/**
 * The last gaps between a key's events, to tell metronomic scripts (gaps nearly equal) from people.
 */
export interface Cadence {
  last: number;
  gaps: number[];
  /** Next slot of the ring to overwrite once `gaps` is full. */
  next: number;
}

export function newCadence(): Cadence {
  return { last: BEGINNING, gaps: [], next: 0 };
}

/** Records an event time. Late events are left out: a gap is only meaningful between consecutive events. */
export function addToCadence(c: Cadence, t: number, samples: number): void {
  if (t < c.last) return;
  if (c.last !== BEGINNING) {
    const gap = t - c.last;
    if (c.gaps.length < samples) c.gaps = append(c.gaps, gap);
    else {
      c.gaps[c.next] = gap;
      c.next = (c.next + 1) % samples;
    }
  }
  c.last = t;
}

export interface CadenceStats {
  readonly samples: number;
  readonly meanGap: number;
  /** Coefficient of variation: standard deviation / mean of the gaps. */
  readonly cv: number;
}

export function cadenceStats(c: Cadence): CadenceStats {
  const n = c.gaps.length;
  if (n === 0) return { samples: 0, meanGap: 0, cv: Number.POSITIVE_INFINITY };
  let sum = 0;
  for (const g of c.gaps) sum += g;
  const mean = sum / n;
  let sq = 0;
  for (const g of c.gaps) sq += (g - mean) ** 2;
  const cv = mean === 0 ? Number.POSITIVE_INFINITY : Math.sqrt(sq / n) / mean;
  return { samples: n, meanGap: mean, cv };
}
