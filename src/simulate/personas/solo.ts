import type { Workload } from '../catalog.js';
import { DAY, HOUR, localWeekday, MINUTE, SECOND } from '../clock.js';
import { browser, personalDevice, phone } from '../devices.js';
import { foreignLocale, homeLocale, type Locale } from '../locales.js';
import { broadbandIp, carrierNatIp } from '../network.js';
import type { Random } from '../random.js';
import { batches, type Presence, type SessionPlan } from '../sessions.js';
import { consumerPlan, consumerWorkload, times } from './enrolment.js';
import type { Persona, Window } from './persona.js';
import { ownDevices } from './presence.js';
import { habitDay, habitual, LEISURE_HOURS, localDays, within, type Habit } from './routine.js';

const LEISURE: Habit = {
  weekdayChance: 0.5,
  weekendChance: 0.65,
  generationsPerDay: [5, 40],
  sessionsPerDay: [1, 3],
  startHours: LEISURE_HOURS,
};

/** Someone who plays with it a few evenings a week. */
export const casual: Persona = {
  name: 'casual',
  enrol: (count, rng) =>
    times(count, () => {
      const locale = homeLocale(rng);
      const devices = times(rng.int(1, 2), () => personalDevice(rng));
      const presence = ownDevices(devices, broadbandIp(rng), locale);
      const plan = consumerPlan(rng);
      const workload = consumerWorkload(rng, plan);
      return {
        persona: 'casual',
        plan,
        sessions: (r, window) => habitual(r, window, locale.zone, LEISURE, workload, presence),
      };
    }),
};

// What one batch averages, measured from the simulator itself: images per batch, and seconds from its first
// submission to its last result. Used to pace the day so the generation count lands near its target.
const MEAN_BATCH_SIZE = 3.1;
const MEAN_BATCH_TURNAROUND = 90 * SECOND;
// Review times are log-normal with σ = 0.5, whose mean is the median × e^(σ²/2).
const REVIEW_MEAN_TO_MEDIAN = Math.exp(-(0.5 ** 2) / 2);

/** Median review pause that spreads `target` generations over `workMs` of batches. */
function reviewMedianFor(target: number, workMs: number): number {
  const cycle = workMs / (target / MEAN_BATCH_SIZE);
  return Math.max(30 * SECOND, (cycle - MEAN_BATCH_TURNAROUND) * REVIEW_MEAN_TO_MEDIAN);
}

/**
 * A professional's working days: 8–12 h at the desk from mid-morning with a lunch break, 300–900
 * generations in batches, a working week with lighter weekends, and nothing at night.
 */
function* workdays(
  rng: Random,
  window: Window,
  zone: string,
  desks: readonly [Presence, ...Presence[]],
  workload: Workload,
): Generator<SessionPlan> {
  for (const day of localDays(window, zone)) {
    const desk = rng.chance(0.85) ? desks[0] : rng.pick(desks);
    const weekday = localWeekday(day.start + 12 * HOUR, zone);
    if (!rng.chance(weekday === 0 ? 0.25 : weekday === 6 ? 0.5 : 0.9)) continue;
    const begin = within(day, rng.uniform(7.5, 10.5), zone);
    const length = rng.uniform(8, 12) * HOUR;
    const lunch = rng.uniform(30, 60) * MINUTE;
    const morning = (length - lunch) * rng.uniform(0.4, 0.6);
    const target = rng.int(300, 900);
    const review = reviewMedianFor(target, length - lunch);
    const morningBudget = Math.round((target * morning) / (length - lunch));
    const where = () => desk;
    yield { start: begin, items: batches(rng, begin, begin + morning, morningBudget, workload, where, review) };
    const back = begin + morning + lunch;
    yield { start: back, items: batches(rng, back, begin + length, target - morningBudget, workload, where, review) };
  }
}

/** A professional creator living on the Unlimited plan: very heavy, but one person at one or two desks. */
export const powerCreator: Persona = {
  name: 'power-creator',
  enrol: (count, rng) =>
    times(count, () => {
      const locale = homeLocale(rng);
      const studio: Presence = { device: browser(rng), ip: broadbandIp(rng), locale };
      const desks: [Presence, ...Presence[]] = [studio];
      if (rng.chance(0.5)) desks.push({ device: browser(rng), ip: rng.chance(0.5) ? studio.ip : broadbandIp(rng), locale });
      const workload: Workload = {
        videoShare: rng.uniform(0.05, 0.25),
        fastShare: rng.uniform(0.15, 0.35),
        failureRate: 0.03,
      };
      return {
        persona: 'power-creator',
        plan: rng.chance(0.8) ? 'unlimited' : 'pro',
        sessions: (r, window) => workdays(r, window, locale.zone, desks, workload),
      };
    }),
};

const TRIP: Habit = { ...LEISURE, weekdayChance: 0.75, weekendChance: 0.8, generationsPerDay: [10, 60] };

/** Where the traveller is from `from` on: a country, and the hotel's or home's line. */
interface Stay {
  readonly from: number;
  readonly locale: Locale;
  readonly ip: string;
}

/**
 * One move abroad early enough in the window to be seen using the app there; over three days or more,
 * sometimes a second move at least a day later, often the trip home.
 */
function itinerary(rng: Random, window: Window, home: Locale, homeIp: string): Stay[] {
  const span = window.end - window.start;
  const away = window.start + span * rng.uniform(0.1, 0.6);
  const stays: Stay[] = [
    { from: -Infinity, locale: home, ip: homeIp },
    { from: away, locale: foreignLocale(rng, home), ip: broadbandIp(rng) },
  ];
  if (span >= 3 * DAY && rng.chance(0.5)) {
    const from = rng.uniform(away + DAY, window.end);
    const abroad = stays[1] as Stay;
    stays.push(
      rng.chance(0.5)
        ? { from, locale: home, ip: homeIp }
        : { from, locale: foreignLocale(rng, abroad.locale), ip: broadbandIp(rng) },
    );
  }
  return stays;
}

function stayAt(stays: readonly Stay[], at: number): Stay {
  let current = stays[0] as Stay;
  for (const stay of stays) if (stay.from <= at) current = stay;
  return current;
}

/** One person with a phone and a laptop who crosses a border once or twice; the phone roams on mobile data. */
export const traveler: Persona = {
  name: 'traveler',
  enrol: (count, rng) =>
    times(count, () => {
      const home = homeLocale(rng);
      const homeIp = broadbandIp(rng);
      const devices = [phone(rng), browser(rng)];
      const plan = consumerPlan(rng);
      const workload = consumerWorkload(rng, plan);
      return {
        persona: 'traveler',
        plan,
        sessions: function* (r, window) {
          const stays = itinerary(r, window, home, homeIp);
          for (const day of localDays(window, home.zone)) {
            const zone = stayAt(stays, day.start + 12 * HOUR).locale.zone;
            yield* habitDay(r, day, zone, TRIP, workload, (sr, start) => {
              const stay = stayAt(stays, start);
              const device = sr.pick(devices);
              const roaming = device.client !== 'web' && sr.chance(0.5);
              const presence: Presence = { device, ip: roaming ? carrierNatIp(sr) : stay.ip, locale: stay.locale };
              return () => presence;
            });
          }
        },
      };
    }),
};
