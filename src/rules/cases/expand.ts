import { createHash } from 'node:crypto';
import { validateEvent, type TimedEvent } from '../../contract/parse.js';
import { MAX_CASE_EVENTS, parseTimeRef, type EventOverrides, type Repeat, type SequenceItem, type TestCase } from './schema.js';

/** Where a case starts unless it says otherwise: any fixed instant works, this one matches the test fixtures. */
export const DEFAULT_START = '2026-11-02T00:00:00Z';
const LATEST = 8.64e15;

/** A problem expanding a case, at a path inside the case (e.g. `events.2.repeat.from`). */
export class ExpandError extends Error {
  constructor(
    message: string,
    readonly path: Array<string | number>,
  ) {
    super(message);
  }
}

type Fields = Record<string, unknown>;

/** What every event has unless the file, case or item says otherwise: an Unlimited Fast image request on the web. */
const BUILT_IN: Fields = {
  type: 'generation.requested',
  accountId: 'acc-1',
  plan: 'unlimited',
  unlimited: true,
  tool: 'image',
  model: 'imagine-4',
  speed: 'fast',
  client: 'web',
  timezone: 'UTC',
};

/** A private (10/8) address derived from the account, so unrelated accounts do not share an IP by accident. */
function defaultIp(accountId: string): string {
  const h = createHash('sha256').update(accountId).digest();
  return `10.${h[0]}.${h[1]}.${(h[2]! % 254) + 1}`;
}

/** Per-event values from a repeat: `devices` / `accounts` / `cycle` lists taken in turn. */
function cycled(repeat: Repeat, i: number): Fields {
  const out: Fields = {};
  for (const [field, values] of Object.entries(repeat.cycle ?? {})) if (values) out[field] = values[i % values.length];
  if (repeat.devices) out.deviceId = repeat.devices[i % repeat.devices.length];
  if (repeat.accounts) out.accountId = repeat.accounts[i % repeat.accounts.length];
  return out;
}

/** `{i}` in a repeat's string values becomes the event's index in the repeat; nothing else is interpreted. */
function templated(overrides: EventOverrides | undefined, i: number): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(overrides ?? {})) out[k] = typeof v === 'string' ? v.split('{i}').join(String(i)) : v;
  return out;
}

export interface ExpandedCase {
  /** Sorted by event time (stable), as a well-behaved producer would deliver them. */
  readonly events: TimedEvent[];
}

/** Turns a case's compact sequence into validated events, filling in defaults. Throws ExpandError. */
export function expandCase(c: TestCase, fileDefaults: EventOverrides | undefined, caseIndex: number): ExpandedCase {
  const total = c.events.reduce((n, item) => n + (item.repeat?.times ?? 1), 0);
  if (total > MAX_CASE_EVENTS) throw new ExpandError(`the case expands to ${total} events, more than ${MAX_CASE_EVENTS}`, ['events']);
  let cursor = Date.parse(c.start ?? DEFAULT_START);
  const out: Array<{ timed: TimedEvent; n: number }> = [];
  const base = { ...BUILT_IN, ...fileDefaults, ...c.defaults };

  const emit = (ts: number, fields: Fields, path: Array<string | number>, what: string) => {
    if (!(Math.abs(ts) <= LATEST)) throw new ExpandError(`${what} falls outside the representable time range`, path);
    const n = out.length + 1;
    const merged: Fields = { ...base, ...fields };
    const accountId = typeof merged.accountId === 'string' ? merged.accountId : '';
    const event: Fields = {
      eventId: `t${caseIndex}-e${n}`,
      requestId: `t${caseIndex}-r${n}`,
      deviceId: `dev-${accountId}`,
      ip: defaultIp(accountId),
      ...merged,
      occurredAt: new Date(ts).toISOString(),
    };
    for (const [k, v] of Object.entries(event)) if (v === null) delete event[k];
    const parsed = validateEvent(event);
    if (!parsed.ok) throw new ExpandError(`${what} is not a valid event: ${parsed.detail}`, path);
    out.push({ timed: parsed.value, n });
  };

  const resolve = (text: string | undefined, path: Array<string | number>): number => {
    if (text === undefined) return cursor;
    const ref = parseTimeRef(text);
    if (!ref) throw new ExpandError(`"${text}" is not a time`, path);
    return 'absolute' in ref ? ref.absolute : cursor + ref.relative;
  };

  c.events.forEach((item: SequenceItem, k) => {
    const path = ['events', k];
    const r = item.repeat;
    if (r) {
      const from = resolve(r.from, [...path, 'repeat', 'from']);
      for (let i = 0; i < r.times; i++) {
        cursor = from + i * r.every;
        emit(cursor, { ...cycled(r, i), ...templated(r.event, i) }, [...path, 'repeat'], `event ${i} of this repeat`);
      }
    } else {
      cursor = resolve(item.at, [...path, 'at']);
      emit(cursor, { ...item.event }, path, 'this event');
    }
  });

  out.sort((a, b) => a.timed.ts - b.timed.ts || a.n - b.n);
  return { events: out.map((o) => o.timed) };
}
