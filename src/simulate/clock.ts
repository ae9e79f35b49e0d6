import { zoneOffsetMs } from '../time/zone.js';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** A zone's UTC offset during one UTC hour, and how RFC 3339 writes it. */
interface ZoneHour {
  readonly offset: number;
  readonly suffix: string;
}

// An Intl lookup costs microseconds and the simulator stamps millions of events. The zones simulated only
// change offset on whole UTC hours, so one lookup per zone-hour serves every event in that hour.
const zoneHours = new Map<string, Map<number, ZoneHour>>();

function zoneHour(zone: string, ts: number): ZoneHour {
  let byHour = zoneHours.get(zone);
  if (!byHour) {
    byHour = new Map();
    zoneHours.set(zone, byHour);
  }
  const hour = Math.floor(ts / HOUR);
  let found = byHour.get(hour);
  if (!found) {
    const offset = zoneOffsetMs(zone, hour * HOUR);
    found = { offset, suffix: zone === 'UTC' ? 'Z' : offsetSuffix(offset) };
    byHour.set(hour, found);
  }
  return found;
}

function offsetSuffix(offset: number): string {
  const minutes = Math.abs(offset) / MINUTE;
  return `${offset < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60), 2)}:${pad(minutes % 60, 2)}`;
}

function pad(value: number, digits: number): string {
  return String(value).padStart(digits, '0');
}

/** The zone's UTC offset at an instant, in ms (local = utc + offset). */
function offsetAt(zone: string, ts: number): number {
  return zoneHour(zone, ts).offset;
}

function modulo(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

// Formatting by hand from lookup tables is several times faster than Date#toISOString, the hottest call here.
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => pad(i, 2));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => pad(i, 3));
const dates = new Map<number, string>();

function isoDate(day: number): string {
  let date = dates.get(day);
  if (date === undefined) {
    date = new Date(day * DAY).toISOString().slice(0, 10);
    dates.set(day, date);
  }
  return date;
}

/** RFC 3339 as a device in `zone` would stamp it: local wall time plus offset, `Z` for UTC devices. */
export function formatOccurredAt(ts: number, zone: string): string {
  const { offset, suffix } = zoneHour(zone, ts);
  const local = ts + offset;
  const day = Math.floor(local / DAY);
  const ms = local - day * DAY;
  const hh = TWO_DIGITS[Math.floor(ms / HOUR)] as string;
  const mm = TWO_DIGITS[Math.floor(ms / MINUTE) % 60] as string;
  const ss = TWO_DIGITS[Math.floor(ms / SECOND) % 60] as string;
  const fraction = THREE_DIGITS[ms % SECOND] as string;
  return `${isoDate(day)}T${hh}:${mm}:${ss}.${fraction}${suffix}`;
}

/** Local time of day in hours, [0, 24). */
export function localTimeOfDay(ts: number, zone: string): number {
  return modulo(ts + offsetAt(zone, ts), DAY) / HOUR;
}

/** Local day of week, 0 = Sunday. */
export function localWeekday(ts: number, zone: string): number {
  return new Date(ts + offsetAt(zone, ts)).getUTCDay();
}

/**
 * The first instant from `from` at which the zone's clock reads `hours` (give or take the hour a DST change
 * skips or repeats). Lets personas plan by the local clock: "starts work at 9".
 */
export function atLocalTime(from: number, hours: number, zone: string): number {
  const fromOffset = offsetAt(zone, from);
  const guess = from + modulo(hours * HOUR - (from + fromOffset), DAY);
  return guess - (offsetAt(zone, guess) - fromOffset);
}
