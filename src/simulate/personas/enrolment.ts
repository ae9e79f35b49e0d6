import type { Plan, Workload } from '../catalog.js';
import type { Random } from '../random.js';

export function times<T>(count: number, make: (index: number) => T): T[] {
  return Array.from({ length: count }, (_, index) => make(index));
}

/**
 * Splits `count` accounts into groups of about [min, max] members (a household, an office, a farm). A
 * remainder too small to be a group joins the last one, so no group is below `min` unless `count` is.
 */
export function groupSizes(count: number, [min, max]: readonly [number, number], rng: Random): number[] {
  const sizes: number[] = [];
  let left = count;
  while (left > 0) {
    let size = Math.min(left, rng.int(min, max));
    if (left - size < min) size = left;
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** Plans of ordinary consumers: most pay for credits; a minority for Unlimited. */
export function consumerPlan(rng: Random): Plan {
  return rng.weighted<Plan>([
    ['basic', 5],
    ['pro', 3],
    ['unlimited', 2],
  ]);
}

/** Basic users pay per fast generation; Pro and Unlimited users mostly wait for the free relaxed queue. */
export function consumerWorkload(rng: Random, plan: Plan): Workload {
  const fastShare = plan === 'basic' ? 0.8 : plan === 'pro' ? 0.35 : 0.25;
  return { videoShare: rng.uniform(0, 0.15), fastShare, failureRate: 0.03 };
}
