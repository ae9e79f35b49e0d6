import { z } from 'zod';
import { GenerationEventSchema } from '../../contract/event.js';
import { Duration, parseDuration } from '../../time/duration.js';
import { StrikeMode } from '../../contract/outputs.js';

/** Events one case may expand to: enough for a week of a busy script, bounded so a typo cannot exhaust memory. */
export const MAX_CASE_EVENTS = 200_000;

const RELATIVE = /^([+-])(\d+(?:ms|s|m|h|d))$/;
const ISO = z.iso.datetime({ offset: true });

/** A time in a case: absolute (ISO 8601 with offset) or relative to the previous item (`+5m`, `-30s`). */
export type TimeRef = { absolute: number } | { relative: number };

export function parseTimeRef(text: string): TimeRef | undefined {
  const rel = RELATIVE.exec(text);
  if (rel) return { relative: (rel[1] === '-' ? -1 : 1) * parseDuration(rel[2]!)! };
  return ISO.safeParse(text).success ? { absolute: Date.parse(text) } : undefined;
}

const TimeRefText = z
  .string()
  .refine((s) => parseTimeRef(s) !== undefined, {
    message: 'expected an ISO time with offset (2026-11-02T00:00:00Z) or a time relative to the previous item (+5m, -30s)',
  })
  .meta({ description: 'ISO 8601 time with offset, or +/- a duration relative to the previous item', examples: ['2026-11-02T00:00:00Z', '+5m'] });

const fields = GenerationEventSchema.omit({ occurredAt: true }).shape;
type Fields = typeof fields;

/** Event fields a case sets; the rest are filled in. `null` removes a default (e.g. `deviceId: null`). */
export const EventOverrides = z
  .object(
    Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, s.nullable().optional()])) as {
      [K in keyof Fields]: z.ZodOptional<z.ZodNullable<Fields[K]>>;
    },
  )
  .strict()
  .meta({ title: 'EventOverrides', description: 'event fields to set; `{i}` in a repeat is replaced by the event index (0-based); null removes a field' });
export type EventOverrides = z.infer<typeof EventOverrides>;

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const CycleField = z.enum(Object.keys(fields) as [keyof Fields, ...Array<keyof Fields>]);

export const Repeat = z
  .object({
    every: Duration,
    times: z.number().int().min(1).max(MAX_CASE_EVENTS),
    from: TimeRefText.optional(),
    event: EventOverrides.optional(),
    devices: z.array(z.string().min(1)).min(1).optional().meta({ description: 'device ids used in turn, one per event' }),
    accounts: z.array(z.string().min(1)).min(1).optional().meta({ description: 'account ids used in turn, one per event' }),
    cycle: z.partialRecord(CycleField, z.array(Scalar).min(1)).optional().meta({ description: 'any event field: values used in turn' }),
  })
  .strict();
export type Repeat = z.infer<typeof Repeat>;

/** One event (`at`, `event`) or a `repeat` of them. One object rather than a union, so a mistake is reported plainly. */
export const SequenceItem = z
  .object({ at: TimeRefText.optional(), event: EventOverrides.optional(), repeat: Repeat.optional() })
  .strict()
  .refine((i) => !(i.repeat && (i.at !== undefined || i.event !== undefined)), {
    message: 'a repeat takes its time and event inside `repeat:` (`from:`, `event:`), not beside it',
  });
export type SequenceItem = z.infer<typeof SequenceItem>;

const RuleName = z.string().min(1).max(64);

export const StrikeExpectation = z
  .object({
    rule: RuleName,
    account: z.string().min(1),
    /** Exact number of strikes; without it, at least one. */
    count: z.number().int().min(1).optional(),
    mode: StrikeMode.optional(),
  })
  .strict();
export type StrikeExpectation = z.infer<typeof StrikeExpectation>;

export const NoStrikeExpectation = z
  .object({ rule: RuleName, account: z.string().min(1).optional().meta({ description: 'without it: no account at all' }) })
  .strict();
export type NoStrikeExpectation = z.infer<typeof NoStrikeExpectation>;

export const Expectation = z
  .object({ strikes: z.array(StrikeExpectation).default([]), noStrikes: z.array(NoStrikeExpectation).default([]) })
  .strict()
  .refine((e) => e.strikes.length + e.noStrikes.length > 0, { message: 'expect needs at least one of strikes or noStrikes' });

export const TestCase = z
  .object({
    name: z.string().min(1).max(200),
    /** Only these rules run; without it, every rule of the directory does. */
    rules: z.array(RuleName).min(1).optional(),
    start: ISO.optional().meta({ description: 'time of the first item unless it says otherwise; default 2026-11-02T00:00:00Z' }),
    defaults: EventOverrides.optional(),
    events: z.array(SequenceItem).min(1),
    expect: Expectation,
  })
  .strict();
export type TestCase = z.infer<typeof TestCase>;

/** A `rules/<name>.test.yaml` file: cases run through the real engine on event time. */
export const TestFile = z.object({ defaults: EventOverrides.optional(), cases: z.array(TestCase).min(1) }).strict();
export type TestFile = z.infer<typeof TestFile>;
