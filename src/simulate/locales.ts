import type { Random } from './random.js';

/** Where a device is: its IANA zone and the country its IP geolocates to. */
export interface Locale {
  readonly zone: string;
  readonly country: string;
}

/** Home locales of human users, weighted roughly like a global consumer app's audience. */
const HOME_LOCALES: readonly (readonly [Locale, number])[] = [
  [{ zone: 'America/New_York', country: 'US' }, 22],
  [{ zone: 'America/Los_Angeles', country: 'US' }, 10],
  [{ zone: 'America/Sao_Paulo', country: 'BR' }, 9],
  [{ zone: 'Europe/London', country: 'GB' }, 9],
  [{ zone: 'Europe/Berlin', country: 'DE' }, 14],
  [{ zone: 'Asia/Tokyo', country: 'JP' }, 12],
  [{ zone: 'Asia/Kolkata', country: 'IN' }, 8],
  [{ zone: 'Australia/Sydney', country: 'AU' }, 8],
  [{ zone: 'UTC', country: 'IS' }, 3],
];

/** Cloud regions scripts run in: servers keep UTC clocks. */
const SERVER_COUNTRIES = ['US', 'DE', 'NL', 'IE', 'SG'] as const;

export function homeLocale(rng: Random): Locale {
  return rng.weighted(HOME_LOCALES);
}

export function serverLocale(rng: Random): Locale {
  return { zone: 'UTC', country: rng.pick(SERVER_COUNTRIES) };
}

/** A home locale in a different country from `current`, e.g. a traveller's destination. */
export function foreignLocale(rng: Random, current: Locale): Locale {
  const abroad = HOME_LOCALES.filter(([locale]) => locale.country !== current.country);
  return rng.weighted(abroad);
}

/** `count` home locales in distinct countries (at most one per country listed). */
export function distinctCountries(rng: Random, count: number): Locale[] {
  const byCountry = new Map<string, Locale>();
  for (const [locale] of rng.shuffle([...HOME_LOCALES])) {
    if (!byCountry.has(locale.country)) byCountry.set(locale.country, locale);
  }
  return [...byCountry.values()].slice(0, count);
}
