import type { Plan, Workload } from '../catalog.js';
import { DAY, HOUR, localTimeOfDay, SECOND } from '../clock.js';
import { browser, headlessBrowser, personalDevice, scriptClient } from '../devices.js';
import { distinctCountries, homeLocale, serverLocale, type Locale } from '../locales.js';
import { broadbandIp, cloudIp } from '../network.js';
import type { Random } from '../random.js';
import { arrivals, metronome, workerPool, type Presence } from '../sessions.js';
import { consumerWorkload, groupSizes, times } from './enrolment.js';
import type { Persona } from './persona.js';
import { fixed } from './presence.js';
import { habitDay, habitual, LEISURE_HOURS, windowDays, type Habit } from './routine.js';

// Abuse targets the Unlimited plan: it is what makes the volume free.
function abuserPlan(rng: Random): Plan {
  return rng.chance(0.85) ? 'unlimited' : 'pro';
}

/** A script's fingerprint: API key or headless browser, on a cloud server or a home box. */
function scriptPresence(rng: Random): Presence {
  const device = rng.chance(0.6) ? scriptClient(rng) : headlessBrowser(rng);
  return rng.chance(0.6)
    ? { device, ip: cloudIp(rng), locale: serverLocale(rng) }
    : { device, ip: broadbandIp(rng), locale: homeLocale(rng) };
}

/** A daily downtime in the script's local time, e.g. a nightly restart or a host that sleeps. */
interface Downtime {
  readonly from: number;
  readonly hours: number;
}

/** Moves `at` past the downtime it falls in, if any. */
function resumeAfter(at: number, downtime: Downtime | undefined, zone: string): number {
  if (!downtime) return at;
  const intoDowntime = (localTimeOfDay(at, zone) - downtime.from + 24) % 24;
  return intoDowntime < downtime.hours ? at + (downtime.hours - intoDowntime) * HOUR : at;
}

/** A scheduled script: a request every 20 s–3 min like clockwork, around the clock or 20–23 hours a day. */
export const automation: Persona = {
  name: 'automation',
  enrol: (count, rng) =>
    times(count, () => {
      const presence = scriptPresence(rng);
      const periodMs = rng.pick([20, 30, 45, 60, 90, 120, 180]) * SECOND;
      const downtime = rng.chance(0.5) ? undefined : { from: rng.uniform(0, 24), hours: rng.uniform(1, 4) };
      // Video renders for minutes; only a slow timer can afford it without piling up jobs.
      const workload: Workload = {
        videoShare: periodMs >= 90 * SECOND && rng.chance(0.3) ? 1 : 0,
        fastShare: 0,
        failureRate: 0.04,
      };
      const where = () => presence;
      return {
        persona: 'automation',
        plan: abuserPlan(rng),
        sessions: function* (r, window) {
          const start = window.start - r.uniform(0, periodMs); // the timer's phase
          const resume = (at: number) => resumeAfter(at, downtime, presence.locale.zone);
          yield { start, items: metronome(r, start, periodMs, workload, where, resume) };
        },
      };
    }),
};

/** A scraper: several times a day, 30–100 fast images pushed through 8–20 parallel workers. */
export const scraper: Persona = {
  name: 'scraper',
  enrol: (count, rng) =>
    times(count, () => {
      const { device, locale } = scriptPresence(rng);
      const ips = times(rng.int(1, 3), () => cloudIp(rng));
      const workload: Workload = { videoShare: 0, fastShare: 0.9, failureRate: 0.05 };
      return {
        persona: 'scraper',
        plan: abuserPlan(rng),
        sessions: function* (r, window) {
          for (const day of windowDays(window)) {
            const runs = Math.min(8, 3 + r.poisson(2));
            const starts = times(runs, () => r.uniform(day.start, day.end)).sort((a, b) => a - b);
            for (const start of starts) {
              const presence: Presence = { device, ip: r.pick(ips), locale };
              const items = workerPool(r, start, r.int(30, 100), r.int(8, 20), workload, () => presence);
              yield { start, items };
            }
          }
        },
      };
    }),
};

const SHARER: Habit = {
  weekdayChance: 1, // who logs in on a day is decided across the whole group, see `loggedIn`
  weekendChance: 1,
  generationsPerDay: [3, 25],
  sessionsPerDay: [1, 2],
  startHours: LEISURE_HOURS,
};
const MIN_SHARERS_PER_DAY = 8;

/** Most of the group logs in on any given day, and always at least eight of them. */
function loggedIn(rng: Random, sharers: readonly Presence[]): Presence[] {
  const shuffled = rng.shuffle([...sharers]);
  const logins = shuffled.filter(() => rng.chance(0.85)).length;
  return shuffled.slice(0, Math.max(MIN_SHARERS_PER_DAY, logins));
}

/** One login passed around 10–25 people in 3–6 countries, each on their own device and home line. */
export const credentialSharing: Persona = {
  name: 'credential-sharing',
  enrol: (count, rng) =>
    times(count, () => {
      const countries = distinctCountries(rng, rng.int(3, 6));
      const sharers = times(rng.int(10, 25), (i): Presence => ({
        device: personalDevice(rng),
        ip: broadbandIp(rng),
        locale: countries[i % countries.length] as Locale,
      }));
      const plan = abuserPlan(rng);
      const workload = consumerWorkload(rng, plan);
      return {
        persona: 'credential-sharing',
        plan,
        sessions: function* (r, window) {
          for (const day of windowDays(window)) {
            yield* loggedIn(r, sharers)
              .flatMap((sharer) => habitDay(r, day, sharer.locale.zone, SHARER, workload, fixed(sharer)))
              .sort((a, b) => a.start - b.start);
          }
        },
      };
    }),
};

/**
 * A reseller: one Unlimited account fronting a paid service for 40–300 customers worldwide, who send
 * 80–200 jobs an hour around the clock; a few regulars send most of them.
 */
export const reseller: Persona = {
  name: 'reseller',
  enrol: (count, rng) =>
    times(count, () => {
      const customers = times(rng.int(40, 300), (): Presence => {
        const locale = homeLocale(rng);
        return { device: personalDevice(rng), ip: broadbandIp(rng), locale };
      });
      const perHour = rng.uniform(80, 200);
      const phase = rng.uniform(0, 2 * Math.PI);
      // Customers in every zone flatten the daily cycle to ±35 %.
      const rate = (at: number) => perHour * (1 + 0.35 * Math.sin((2 * Math.PI * at) / DAY + phase));
      const workload: Workload = { videoShare: rng.uniform(0.1, 0.3), fastShare: 0.2, failureRate: 0.03 };
      return {
        persona: 'reseller',
        plan: 'unlimited',
        sessions: function* (r, window) {
          // Squaring a uniform draw skews picks toward the first customers: the regulars.
          const customer = () => customers[Math.floor(customers.length * r.next() ** 2)] as Presence;
          // Poisson arrivals are memoryless: starting at the window loses nothing.
          yield { start: window.start, items: arrivals(r, window.start, rate, perHour * 1.35, workload, customer) };
        },
      };
    }),
};

const FARMED: Habit = {
  weekdayChance: 0.9,
  weekendChance: 0.9,
  generationsPerDay: [30, 150],
  sessionsPerDay: [2, 5],
  startHours: [[[0, 24], 1]],
};

/**
 * An account farm: 20–60 accounts registered to multiply a trial or plan, all driven from one machine
 * (one device fingerprint) on one or two addresses, each used moderately so none stands out alone.
 */
export const accountFarm: Persona = {
  name: 'account-farm',
  enrol: (count, rng) =>
    groupSizes(count, [20, 60], rng).flatMap((size) => {
      const locale = homeLocale(rng);
      const machine = rng.chance(0.5) ? browser(rng) : headlessBrowser(rng);
      const ips = times(rng.int(1, 2), () => broadbandIp(rng));
      return times(size, () => {
        const plan = abuserPlan(rng);
        const workload = consumerWorkload(rng, plan);
        return {
          persona: 'account-farm',
          plan,
          sessions: (r, window) =>
            habitual(r, window, locale.zone, FARMED, workload, (sr) => {
              const presence: Presence = { device: machine, ip: sr.pick(ips), locale };
              return () => presence;
            }),
        };
      });
    }),
};
