import { z } from 'zod';
import { AccountStatus, Case, Command, Transition } from '../../contract/outputs.js';
import { AuditEntry } from '../../support/audit.js';

/**
 * Ids accepted in paths and queries. Narrower than the contract's (any string up to 128): no wildcards, slashes,
 * dots at the start, braces or spaces, so an id can never be mistaken for a path, a pattern or a query.
 */
export const AccountId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/, 'account id: letters, digits and . _ : @ - only, starting with a letter or digit, at most 128')
  .meta({ example: 'acc-00042' });
const AccountIdPrefix = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/, 'search text: the beginning of an account id (letters, digits, . _ : @ -)');
const RuleId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'rule id: lower-case letters, digits, . _ - (at most 64)');
const Since = z.string().regex(/^(\d+(ms|s|m|h|d)|\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?)$/, 'since: a duration back from now such as 7d or 24h, or an ISO date');
const Reason = z.string().trim().min(1).max(2000).meta({ description: 'Why: recorded on the case and in the audit trail' });

export const AccountParams = z.object({ accountId: AccountId }).strict();

export const EntitlementQuery = z.object({ tool: z.enum(['image', 'video']).optional() }).strict();

export function caseListQuery(maxPageSize: number) {
  return z
    .object({
      status: AccountStatus.optional(),
      rule: RuleId.optional(),
      since: Since.optional(),
      q: AccountIdPrefix.optional().meta({ description: 'Account id prefix, case-insensitive' }),
      page: z.coerce.number().int().min(1).max(10_000).default(1),
      size: z.coerce.number().int().min(1).max(maxPageSize).default(Math.min(25, maxPageSize)),
    })
    .strict();
}

export const ExportQuery = z
  .object({
    status: z.enum(['paused', 'suspended', 'all']).default('all'),
    since: Since.optional(),
    format: z.enum(['csv', 'ndjson']).default('csv'),
  })
  .strict();

export const ReasonBody = z.object({ reason: Reason }).strict();
export const AppealDecisionBody = z.object({ decision: z.enum(['restore', 'uphold']), reason: Reason }).strict();

export const Health = z.object({ status: z.literal('ok') });

export const EntitlementResponse = z.object({
  accountId: z.string(),
  access: AccountStatus,
  speed: z.enum(['fast', 'relaxed', 'blocked']),
  until: z.iso.datetime({ offset: true }).nullable(),
  reasons: z.array(z.string()),
  maxConcurrent: z.number().int().optional(),
});

export const CaseSummary = Case.omit({ strikes: true, transitions: true }).extend({
  strikeCount: z.number().int(),
  firstStrikeAt: z.string().optional(),
  lastStrikeAt: z.string().optional(),
  statusReason: z.string().optional(),
});

export const CasePageResponse = z.object({ total: z.number().int(), page: z.number().int(), size: z.number().int(), cases: z.array(CaseSummary) });

export const CaseDetailResponse = z.object({
  case: Case,
  /** Support actions on the account (appeals, manual actions, refusals), oldest first. */
  actions: z.array(AuditEntry),
});

export const CommandResponse = z.object({
  outcome: z.enum(['applied', 'duplicate', 'refused', 'accepted']),
  command: Command,
  transition: Transition.optional(),
  case: Case.optional(),
  error: z.string().optional(),
});

export const ErrorResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
  requestId: z.string(),
});

