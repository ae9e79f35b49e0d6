import type { Workload } from '../catalog.js';
import { atLocalTime, DAY, HOUR, localWeekday } from '../clock.js';
import type { Random } from '../random.js';
import { browsing, type SessionPlan, type Where } from '../sessions.js';
import type { Window } from './persona.js';

/** Local-time windows [from, to) in hours where sessions start, with relative weights. */
export type StartHours = readonly (readonly [window: readonly [from: number, to: number], weight: number])[];

/** Leisure use: a little at breakfast and lunch, mostly in the evening. */
export const LEISURE_HOURS: StartHours = [
  [[7, 9.5], 2],
  [[12, 14], 2.5],
  [[18, 23.5], 5.5],
];

/** How a kind of person uses the platform over a day. */
export interface Habit {
  /** Chance of any use on a weekday, and on Saturday or Sunday: people take days off. */
  readonly weekdayChance: number;
  readonly weekendChance: number;
  readonly generationsPerDay: readonly [number, number];
  readonly sessionsPerDay: readonly [number, number];
  readonly startHours: StartHours;
}

/** The presence a session runs under, drawn when it is planned (which device, which network). */
export type PresenceFor = (rng: Random, sessionStart: number) => Where;

/**
 * Day starts covering the window, from the day before it: a session that begins the evening before (or a
 * Tokyo workday starting at 23:00 UTC) spills into the window, and requests before it are dropped later.
 */
export function* simulationDays(window: Window): Generator<number> {
  for (let day = window.start - DAY; day < window.end; day += DAY) yield day;
}

/** One day of browsing sessions for someone in `zone` following `habit`, in start order; none on a day off. */
export function habitDay(
  rng: Random,
  day: number,
  zone: string,
  habit: Habit,
  workload: Workload,
  presenceFor: PresenceFor,
): SessionPlan[] {
  const weekday = localWeekday(day + 12 * HOUR, zone);
  const weekend = weekday === 0 || weekday === 6;
  if (!rng.chance(weekend ? habit.weekendChance : habit.weekdayChance)) return [];
  const generations = rng.int(...habit.generationsPerDay);
  const sessions = Math.min(generations, rng.int(...habit.sessionsPerDay));
  // Uneven shares: one long evening session and a short lunchtime one is more typical than equal halves.
  const shares = Array.from({ length: sessions }, () => rng.uniform(0.3, 1.7));
  const totalShare = shares.reduce((sum, share) => sum + share, 0);
  return shares
    .map((share) => {
      const [from, to] = rng.weighted(habit.startHours);
      const start = atLocalTime(day, rng.uniform(from, to), zone);
      const count = Math.max(1, Math.round((share / totalShare) * generations));
      return { start, items: browsing(rng, start, count, workload, presenceFor(rng, start)) };
    })
    .sort((a, b) => a.start - b.start);
}

/** Every day's sessions for an account following one habit in one zone. */
export function* habitual(
  rng: Random,
  window: Window,
  zone: string,
  habit: Habit,
  workload: Workload,
  presenceFor: PresenceFor,
): Generator<SessionPlan> {
  for (const day of simulationDays(window)) yield* habitDay(rng, day, zone, habit, workload, presenceFor);
}
