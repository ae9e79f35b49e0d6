import { z } from 'zod';
import { MAX_ID_LENGTH } from './event.js';

/** The records the pipeline emits. Embedded runs write them as NDJSON files; Kafka and Elasticsearch carry the same. */

const Iso = z.iso.datetime({ offset: true });
const Id = z.string().min(1).max(MAX_ID_LENGTH);

export const AccountStatus = z.enum(['active', 'paused', 'suspended']);
export type AccountStatus = z.infer<typeof AccountStatus>;

export const StrikeMode = z.enum(['enforce', 'shadow']);

export const ConditionEvidence = z.object({
  kind: z.enum(['velocity', 'concurrency', 'distinct', 'throughput', 'cadence']),
  observed: z.number(),
  threshold: z.number(),
  /** For cadence the observed value is the coefficient of variation and it must be at or below the threshold. */
  comparison: z.enum(['>=', '<=']),
  window: z.object({ from: Iso, to: Iso }),
});
export type ConditionEvidence = z.infer<typeof ConditionEvidence>;

export const Strike = z.object({
  strikeId: z.string(),
  ruleId: z.string(),
  /** Content hash of the rule that made the strike. */
  ruleVersion: z.string(),
  mode: StrikeMode,
  severity: z.enum(['low', 'medium', 'high', 'critical']),
  points: z.number().int(),
  accountId: Id,
  at: Iso,
  reason: z.string(),
  tags: z.array(z.string()),
  /** The key the rule counted on, e.g. `{ field: 'deviceId', value: 'd-7c1' }` for an account farm. */
  key: z.object({ field: z.string(), value: z.string() }),
  evidence: z.object({
    triggerEventId: Id,
    conditions: z.array(ConditionEvidence),
    sampleEventIds: z.array(Id),
  }),
});
export type Strike = z.infer<typeof Strike>;

export const CommandKind = z.enum([
  'appeal.open',
  'appeal.restore',
  'appeal.uphold',
  'manual.pause',
  'manual.suspend',
  'manual.restore',
]);
export type CommandKind = z.infer<typeof CommandKind>;

/** A support decision: an input to the enforcement state machine beside strikes. */
export const Command = z
  .object({
    commandId: Id,
    kind: CommandKind,
    accountId: Id,
    actor: z.string().min(1).max(128),
    reason: z.string().min(1).max(2000),
    at: Iso,
  })
  .strict();
export type Command = z.infer<typeof Command>;

export const Transition = z.object({
  transitionId: z.string(),
  accountId: Id,
  from: AccountStatus,
  to: AccountStatus,
  at: Iso,
  reason: z.string(),
  /** `system` for escalation by strikes, otherwise the support agent. */
  actor: z.string(),
  strikeIds: z.array(z.string()),
  commandId: z.string().optional(),
});
export type Transition = z.infer<typeof Transition>;

export const SpeedDecision = z.object({
  decisionId: z.string(),
  accountId: Id,
  kind: z.enum(['daily-fast-quota', 'concurrency-cap', 'sustained-activity']),
  speed: z.enum(['fast', 'relaxed', 'blocked']),
  at: Iso,
  until: Iso,
  reason: z.string(),
  tool: z.enum(['image', 'video']).optional(),
  model: z.string().optional(),
  used: z.number().int().optional(),
  limit: z.number().int().optional(),
  localDate: z.string().optional(),
  timezone: z.string().optional(),
  maxConcurrent: z.number().int().optional(),
});
export type SpeedDecision = z.infer<typeof SpeedDecision>;

export const AppealStatus = z.enum(['none', 'open', 'restored', 'upheld']);
export type AppealStatus = z.infer<typeof AppealStatus>;

export const Case = z.object({
  caseId: z.string(),
  accountId: Id,
  status: AccountStatus,
  /** Enforced strike points inside the policy's lookback at `updatedAt`. */
  points: z.number().int(),
  appeal: z.object({ status: AppealStatus, at: Iso.optional() }),
  openedAt: Iso,
  updatedAt: Iso,
  rules: z.array(z.string()),
  strikes: z.array(Strike),
  transitions: z.array(Transition),
});
export type Case = z.infer<typeof Case>;

export const DeadLetter = z.object({
  reason: z.enum(['oversized', 'not-json', 'schema', 'late', 'bad-command']),
  detail: z.string(),
  raw: z.string(),
  source: z.string().optional(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;
