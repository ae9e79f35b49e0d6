import type { Workload } from '../catalog.js';
import { localDay } from '../../time/zone.js';
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

/** A span of time sessions are planned for, epoch ms, end exclusive. */
export interface Day {
  readonly start: number;
  readonly end: number;
}

/**
 * 24-hour days from the window's start, plus the day before it (see `localDays`). For activity that does not
 * follow one local clock: scripts, and groups spread over time zones.
 */
export function* windowDays(window: Window): Generator<Day> {
  for (let start = window.start - DAY; start < window.end; start += DAY) yield { start, end: start + DAY };
}

/**
 * Local days in `zone`, midnight to midnight (23 or 25 hours across DST), covering the window from the day
 * before it: a session that starts the evening before spills into the window (requests before the window are
 * dropped later).
 */
export function* localDays(window: Window, zone: string): Generator<Day> {
  for (let day = memoLocalDay(zone, window.start - DAY); day.start < window.end; day = memoLocalDay(zone, day.end)) {
    yield day;
  }
}

// Finding a local midnight takes a dozen Intl calls, and every account in a zone asks for the same few days.
const localDayMemo = new Map<string, Day>();

function memoLocalDay(zone: string, at: number): Day {
  const key = `${zone} ${at}`;
  let day = localDayMemo.get(key);
  if (!day) {
    day = localDay(zone, at);
    localDayMemo.set(key, day);
  }
  return day;
}

/**
 * The instant in `day` at local time `hours`. Clamped into the day, so that every session planned for a day
 * starts in it and consecutive days' plans come out in start order, as merging them lazily requires.
 */
export function within(day: Day, hours: number, zone: string): number {
  return Math.min(day.end - 1, Math.max(day.start, atLocalTime(day.start, hours, zone)));
}

/** One day of browsing sessions for someone in `zone` following `habit`, in start order; none on a day off. */
export function habitDay(
  rng: Random,
  day: Day,
  zone: string,
  habit: Habit,
  workload: Workload,
  presenceFor: PresenceFor,
): SessionPlan[] {
  const weekday = localWeekday(day.start + 12 * HOUR, zone);
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
      const start = within(day, rng.uniform(from, to), zone);
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
  for (const day of localDays(window, zone)) yield* habitDay(rng, day, zone, habit, workload, presenceFor);
}
