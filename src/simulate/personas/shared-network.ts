import type { Plan } from '../catalog.js';
import { browser, personalDevice, phone } from '../devices.js';
import { homeLocale } from '../locales.js';
import { addressIn, broadbandIp, carrierNatIp, subnet24 } from '../network.js';
import type { Presence } from '../sessions.js';
import { consumerPlan, consumerWorkload, groupSizes, times } from './enrolment.js';
import type { Persona } from './persona.js';
import { ownDevices } from './presence.js';
import { habitual, type Habit } from './routine.js';

// Humans who share a network address with other accounts. Many accounts per IP is normal for them; what they
// do not share is a device: every member has their own fingerprint.

const HOME_EVENINGS: Habit = {
  weekdayChance: 0.55,
  weekendChance: 0.7,
  generationsPerDay: [5, 60],
  sessionsPerDay: [1, 3],
  startHours: [
    [[7, 9], 1],
    [[12, 14], 1],
    [[17, 23.5], 6],
  ],
};

/** A family or flatmates: 2–4 accounts on one home line, each on their own devices. */
export const household: Persona = {
  name: 'household',
  enrol: (count, rng) =>
    groupSizes(count, [2, 4], rng).flatMap((size) => {
      const locale = homeLocale(rng);
      const homeIp = broadbandIp(rng);
      return times(size, () => {
        const presence = ownDevices(
          times(rng.int(1, 2), () => personalDevice(rng)),
          homeIp,
          locale,
        );
        const plan = consumerPlan(rng);
        const workload = consumerWorkload(rng, plan);
        return {
          persona: 'household',
          plan,
          sessions: (r, window) => habitual(r, window, locale.zone, HOME_EVENINGS, workload, presence),
        };
      });
    }),
};

const WORKING_HOURS: Habit = {
  weekdayChance: 0.8,
  weekendChance: 0.05,
  generationsPerDay: [10, 120],
  sessionsPerDay: [1, 4],
  startHours: [
    [[9, 12], 5],
    [[13, 17.5], 5],
  ],
};

/** A design or marketing team: 10–40 accounts on work laptops behind 1–3 office NAT addresses, weekdays 9–18. */
export const office: Persona = {
  name: 'office',
  enrol: (count, rng) =>
    groupSizes(count, [10, 40], rng).flatMap((size) => {
      const locale = homeLocale(rng);
      const egressIps = times(rng.int(1, 3), () => broadbandIp(rng));
      return times(size, () => {
        const laptop = browser(rng);
        const plan = rng.weighted<Plan>([
          ['pro', 6],
          ['unlimited', 3],
          ['basic', 1],
        ]);
        const workload = consumerWorkload(rng, plan);
        return {
          persona: 'office',
          plan,
          sessions: (r, window) =>
            habitual(r, window, locale.zone, WORKING_HOURS, workload, (sr) => {
              const presence: Presence = { device: laptop, ip: sr.pick(egressIps), locale };
              return () => presence;
            }),
        };
      });
    }),
};

const STUDENT_HOURS: Habit = {
  weekdayChance: 0.6,
  weekendChance: 0.5,
  generationsPerDay: [5, 80],
  sessionsPerDay: [1, 3],
  startHours: [
    [[9, 12], 2],
    [[13, 18], 3],
    [[19, 24], 3],
    [[0, 2], 1],
  ],
};

/** Students on a campus network: many accounts, addresses handed out from one /24, odd hours. */
export const university: Persona = {
  name: 'university',
  enrol: (count, rng) =>
    groupSizes(count, [60, 250], rng).flatMap((size) => {
      const locale = homeLocale(rng);
      const campus = subnet24(rng);
      return times(size, () => {
        const devices = times(rng.int(1, 2), () => personalDevice(rng));
        const plan = consumerPlan(rng);
        const workload = consumerWorkload(rng, plan);
        return {
          persona: 'university',
          plan,
          sessions: (r, window) =>
            habitual(r, window, locale.zone, STUDENT_HOURS, workload, (sr) => {
              const device = sr.pick(devices);
              const onCampus = sr.chance(0.85);
              const presence: Presence = { device, ip: onCampus ? addressIn(campus, sr) : carrierNatIp(sr), locale };
              return () => presence;
            }),
        };
      });
    }),
};

const ON_THE_GO: Habit = {
  weekdayChance: 0.6,
  weekendChance: 0.6,
  generationsPerDay: [5, 50],
  sessionsPerDay: [1, 4],
  startHours: [
    [[7, 9], 2],
    [[12, 13.5], 2],
    [[17, 19], 2],
    [[19, 24], 3],
  ],
};

/**
 * Phone-only subscribers of one mobile carrier. Carrier-grade NAT puts many unrelated subscribers behind each
 * address of a small pool, and a phone gets a new address every session and on cell handovers.
 */
export const mobileCarrier: Persona = {
  name: 'mobile-carrier',
  enrol: (count, rng) =>
    groupSizes(count, [50, 400], rng).flatMap((size) => {
      const locale = homeLocale(rng);
      const natPool = times(Math.max(4, Math.ceil(size / 8)), () => carrierNatIp(rng));
      return times(size, () => {
        const handset = phone(rng);
        const plan = consumerPlan(rng);
        const workload = consumerWorkload(rng, plan);
        return {
          persona: 'mobile-carrier',
          plan,
          sessions: (r, window) =>
            habitual(r, window, locale.zone, ON_THE_GO, workload, (sr) => {
              let ip = sr.pick(natPool);
              return () => {
                if (sr.chance(0.1)) ip = sr.pick(natPool);
                return { device: handset, ip, locale };
              };
            }),
        };
      });
    }),
};
