/**
 * Local calendar days in IANA zones, DST-correct (days of 23 and 25 hours), using only Intl.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(zone: string, utcMs: number): WallClock {
  const w: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(zone).formatToParts(utcMs)) {
    if (part.type in w) w[part.type as keyof WallClock] = Number(part.value);
  }
  return w;
}

/** Offset of the zone from UTC at an instant, in ms (local = utc + offset). */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  const w = wallClock(zone, utcMs);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** First instant whose local date is the given calendar date (month 1-12): local 00:00, or the jump where 00:00 falls in a DST gap. */
function startOfLocalDate(zone: string, year: number, month: number, day: number): number {
  const wall = Date.UTC(year, month - 1, day);
  let start = Number.POSITIVE_INFINITY;
  // Midnight lies at wall − offset for the offset in force either just before or just after it.
  for (const probe of [wall - 86_400_000, wall + 86_400_000]) {
    const candidate = wall - zoneOffsetMs(zone, probe);
    const w = wallClock(zone, candidate);
    if (Date.UTC(w.year, w.month - 1, w.day) >= wall && candidate < start) start = candidate;
  }
  return start;
}

export interface LocalDay {
  /** `YYYY-MM-DD` in the zone. */
  readonly date: string;
  /** Epoch ms of the day's first instant. */
  readonly start: number;
  /** Epoch ms of the next day's first instant (local 00:00 of the next date). */
  readonly end: number;
}

/** The latest day computed per zone: accounts of one zone mostly ask about the same day, and Intl is slow. */
const lastDay = new Map<string, LocalDay>();

/** The local calendar day containing an instant. */
export function localDay(zone: string, utcMs: number): LocalDay {
  const cached = lastDay.get(zone);
  if (cached && utcMs >= cached.start && utcMs < cached.end) return cached;
  const day = computeLocalDay(zone, utcMs);
  lastDay.set(zone, day);
  return day;
}

function computeLocalDay(zone: string, utcMs: number): LocalDay {
  const w = wallClock(zone, utcMs);
  const next = new Date(Date.UTC(w.year, w.month - 1, w.day + 1));
  const date = `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
  return {
    date,
    start: startOfLocalDate(zone, w.year, w.month, w.day),
    end: startOfLocalDate(zone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()),
  };
}

/** Hour of day 0-23 on the zone's wall clock. */
export function localHour(zone: string, utcMs: number): number {
  return wallClock(zone, utcMs).hour;
}
