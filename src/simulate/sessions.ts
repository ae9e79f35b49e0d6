import { drawJob, type Job, type Workload } from './catalog.js';
import { HOUR, MINUTE, SECOND } from './clock.js';
import type { Device } from './devices.js';
import type { Locale } from './locales.js';
import { MinHeap } from './heap.js';
import type { TimedSource } from './merge.js';
import type { Random } from './random.js';

/** Who is generating, from where: the device, its network address and its locale. */
export interface Presence {
  readonly device: Device;
  readonly ip: string;
  readonly locale: Locale;
}

/** The presence behind each request of a session; called once per request, so a phone can change cell mid-session. */
export type Where = (at: number) => Presence;

/** One generation request: when, what, and from where. */
export interface GenerationRequest {
  readonly at: number;
  readonly job: Job;
  readonly where: Presence;
}

/** A stretch of activity: requests in time order, none before `start`. */
export type SessionPlan = TimedSource<GenerationRequest>;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function request(at: number, job: Job, where: Where): GenerationRequest {
  return { at, job, where: where(at) };
}

/** A person fires off at most this many quick variations of one idea before waiting to see them. */
const MAX_QUICK_VARIATIONS = 3;

/**
 * A person at a screen: prompt, wait for the result, look at it, tweak, repeat; now and then a few quick
 * variations fired off while the last one renders, or a walk away. Gaps mix seconds with minutes, so their
 * CV is above 1, and in flight stays within the variations of one idea.
 */
export function* browsing(
  rng: Random,
  start: number,
  count: number,
  workload: Workload,
  where: Where,
): Generator<GenerationRequest> {
  let at = start;
  let variations = 0;
  for (let i = 0; i < count; i++) {
    const job = drawJob(rng, workload);
    yield request(at, job, where);
    if (variations < MAX_QUICK_VARIATIONS && rng.chance(0.25)) {
      variations++;
      at += rng.uniform(1, 6) * SECOND;
    } else {
      variations = 0;
      at += job.renderMs + clamp(rng.logNormal(25 * SECOND, 1.1), 3 * SECOND, 10 * MINUTE);
      if (rng.chance(0.05)) at += rng.uniform(3, 20) * MINUTE;
    }
  }
}

/**
 * A professional working in batches: a handful of prompts submitted seconds apart, then waiting for all of
 * them and reviewing before the next batch. In flight never exceeds one batch (≤ 4), however busy the day.
 * Stops at `until` or after `budget` generations, whichever comes first.
 */
export function* batches(
  rng: Random,
  start: number,
  until: number,
  budget: number,
  workload: Workload,
  where: Where,
  reviewMedianMs: number,
): Generator<GenerationRequest> {
  let at = start;
  let made = 0;
  while (at < until && made < budget) {
    const first = drawJob(rng, workload);
    const size = Math.min(budget - made, first.tool === 'video' ? rng.int(1, 2) : rng.chance(0.7) ? 4 : rng.int(1, 3));
    let allDone = at;
    for (let i = 0; i < size; i++) {
      const job = i === 0 ? first : drawJob(rng, workload, first.tool);
      yield request(at, job, where);
      allDone = Math.max(allDone, at + job.renderMs);
      at += rng.uniform(0.4, 3) * SECOND;
    }
    made += size;
    at = allDone + clamp(rng.logNormal(reviewMedianMs, 0.5), 30 * SECOND, 5 * MINUTE);
  }
}

/**
 * A script on a timer: one request every `periodMs` with ±2 % scheduler jitter, forever. `resume` moves a
 * request out of the script's downtime (e.g. a nightly restart). Gap CV is about 0.01.
 */
export function* metronome(
  rng: Random,
  start: number,
  periodMs: number,
  workload: Workload,
  where: Where,
  resume: (at: number) => number,
): Generator<GenerationRequest> {
  let at = start;
  for (;;) {
    at = resume(at);
    yield request(at, drawJob(rng, workload), where);
    at += periodMs * rng.uniform(0.98, 1.02);
  }
}

/**
 * A scraper's worker pool: `workers` requests fired nearly at once, and each worker takes the next item the
 * moment its job returns, so `count` requests go through at full concurrency within a minute or two.
 */
export function* workerPool(
  rng: Random,
  start: number,
  count: number,
  workers: number,
  workload: Workload,
  where: Where,
): Generator<GenerationRequest> {
  const finishing = new MinHeap<number>((a, b) => a < b);
  let at = start;
  for (let i = 0; i < count; i++) {
    if (finishing.size >= workers) at = Math.max(at, finishing.pop() as number) + rng.uniform(50, 400);
    while ((finishing.peek() ?? Infinity) <= at) finishing.pop();
    const job = drawJob(rng, workload);
    yield request(at, job, where);
    finishing.push(at + job.renderMs);
    at += rng.uniform(20, 200);
  }
}

/**
 * Independent customers' orders arriving around the clock: a Poisson process whose rate `perHour(at)`
 * may vary (never above `peakPerHour`), sampled by thinning.
 */
export function* arrivals(
  rng: Random,
  start: number,
  perHour: (at: number) => number,
  peakPerHour: number,
  workload: Workload,
  where: Where,
): Generator<GenerationRequest> {
  let at = start;
  for (;;) {
    at += rng.exponential(HOUR / peakPerHour);
    if (rng.chance(perHour(at) / peakPerHour)) yield request(at, drawJob(rng, workload), where);
  }
}
