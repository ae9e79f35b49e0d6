import { z } from 'zod';
import { EVENT_FIELDS } from '../contract/event.js';
import { Duration } from '../time/duration.js';

export const EventField = z.enum(EVENT_FIELDS);
export type EventField = z.infer<typeof EventField>;

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
/** `$name` refers to a named list declared under `lists:` in any file of the rule directory. */
export const LIST_REF = /^\$([A-Za-z_][A-Za-z0-9_-]*)$/;

export const MATCH_OPS = [
  'equals', 'not-equals', 'in', 'not-in', 'in-cidr', 'not-in-cidr',
  'prefix', 'suffix', 'contains', 'gt', 'gte', 'lt', 'lte', 'exists', 'absent',
] as const;

export const MatchLeaf = z
  .object({
    field: EventField,
    op: z.enum(MATCH_OPS),
    value: z.union([Scalar, z.array(Scalar).min(1)]).optional(),
  })
  .strict();
export type MatchLeaf = z.infer<typeof MatchLeaf>;

export type MatchExpr = MatchLeaf | { all: MatchExpr[] } | { any: MatchExpr[] } | { not: MatchExpr };
export const MatchExpr: z.ZodType<MatchExpr> = z
  .lazy(() =>
    z.union([
      MatchLeaf,
      z.object({ all: z.array(MatchExpr).min(1) }).strict(),
      z.object({ any: z.array(MatchExpr).min(1) }).strict(),
      z.object({ not: MatchExpr }).strict(),
    ]),
  )
  .meta({ title: 'MatchExpr', description: '{ field, op, value }, or all: [...], any: [...], not: {...}' });

const Count = z.number().int().min(1).max(100_000);

/** Matching events per key within a sliding window `(t − window, t]` reach `threshold`. */
export const VelocityCondition = z
  .object({ kind: z.literal('velocity'), window: Duration, threshold: Count })
  .strict();

/** Generations in flight for the account reach `threshold` and stay there for `sustain`. */
export const ConcurrencyCondition = z
  .object({
    kind: z.literal('concurrency'),
    threshold: z.number().int().min(1).max(1000),
    sustain: Duration.optional(),
  })
  .strict();

/** Distinct values of `field` per key within the window reach `threshold` (fan-out). */
export const DistinctCondition = z
  .object({ kind: z.literal('distinct'), field: EventField, window: Duration, threshold: z.number().int().min(2).max(1000) })
  .strict();

/** At least `atLeast` of the last `of` buckets each hold `minEvents` or more (humans sleep; scripts do not). */
export const ThroughputCondition = z
  .object({
    kind: z.literal('throughput'),
    bucket: Duration,
    minEvents: Count,
    atLeast: z.number().int().min(1).max(168),
    of: z.number().int().min(1).max(168),
  })
  .strict()
  .refine((c) => c.atLeast <= c.of, { message: 'atLeast must not exceed of', path: ['atLeast'] });

/** The last `samples` gaps between matching events are metronomic: coefficient of variation ≤ `maxCv`. */
export const CadenceCondition = z
  .object({
    kind: z.literal('cadence'),
    samples: z.number().int().min(3).max(256),
    maxCv: z.number().min(0).max(5),
    maxMeanGap: Duration.optional(),
  })
  .strict();

export const Condition = z.discriminatedUnion('kind', [
  VelocityCondition,
  ConcurrencyCondition,
  DistinctCondition,
  ThroughputCondition,
  CadenceCondition,
]);
export type Condition = z.infer<typeof Condition>;

export const Severity = z.enum(['low', 'medium', 'high', 'critical']);
export const RuleMode = z.enum(['enforce', 'shadow', 'off']);

export const RuleSpec = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'rule id must be lower-case letters, digits, ".", "_" or "-" (max 64)'),
    description: z.string().min(1),
    severity: Severity,
    mode: RuleMode.describe('enforce: strikes escalate; shadow: would-be strikes only (shadow-strikes.ndjson); off: not run'),
    owner: z.string().min(1),
    tags: z.array(z.string().min(1)).default([]),
    match: z.array(MatchExpr).default([]).describe('which events the rule counts: every entry must hold'),
    groupBy: EventField.default('accountId').describe('the key the rule counts per: accountId, deviceId, ip…'),
    conditions: z.array(Condition).min(1).describe('all must hold at one event for a strike'),
    strike: z
      .object({
        points: z.number().int().min(1).max(1000),
        reason: z.string().min(1).max(500),
      })
      .strict(),
    cooldown: Duration.describe('after a strike, the same rule does not strike the same account again for this long'),
  })
  .strict();
export type RuleSpec = z.infer<typeof RuleSpec>;

export const NamedList = z
  .object({
    kind: z.enum(['cidr', 'values']),
    description: z.string().optional(),
    items: z.array(z.union([z.string(), z.number()])).min(1),
  })
  .strict();
export type NamedList = z.infer<typeof NamedList>;

/** One YAML file of the rule directory: named lists, rules, or both. */
export const RuleFile = z
  .object({
    lists: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'list names are letters, digits, "_" or "-"'), NamedList).optional(),
    rules: z.array(RuleSpec).optional(),
  })
  .strict();
export type RuleFile = z.infer<typeof RuleFile>;
