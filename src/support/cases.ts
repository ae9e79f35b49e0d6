import type { AccountStatus, Case } from '../contract/outputs.js';
import { parseDuration } from '../time/duration.js';

/** Which cases a support list or an export covers; every field narrows it. */
export interface CaseFilter {
  status?: AccountStatus;
  /** Cases with at least one strike of this rule. */
  rule?: string;
  /** Cases updated at or after this instant (ISO). */
  updatedSince?: string;
  /** Accounts whose id starts with this (case-insensitive): the support search box. */
  accountIdPrefix?: string;
}

/** A case without its strike and transition arrays: the row of a list or an export. */
export type CaseSummary = Omit<Case, 'strikes' | 'transitions'> & {
  strikeCount: number;
  firstStrikeAt?: string;
  lastStrikeAt?: string;
  /** Why the account is in its current status: the reason of its last transition. */
  statusReason?: string;
};

export interface CasePage {
  total: number;
  page: number;
  size: number;
  cases: CaseSummary[];
}

/** Read access to cases, from Elasticsearch or from an embedded run's cases.ndjson. */
export interface CaseQueries {
  list(filter: CaseFilter, page: { page: number; size: number }): Promise<CasePage>;
  get(accountId: string): Promise<Case | undefined>;
  /** Every matching case, in accountId order. */
  scan(filter: CaseFilter): AsyncIterable<CaseSummary>;
}

export function summaryOf(c: Case): CaseSummary {
  const { strikes, transitions, ...rest } = c;
  const times = strikes.map((s) => s.at).sort();
  const last = transitions[transitions.length - 1];
  return {
    ...rest,
    strikeCount: strikes.length,
    ...(times.length > 0 ? { firstStrikeAt: times[0]!, lastStrikeAt: times[times.length - 1]! } : {}),
    ...(last ? { statusReason: last.reason } : {}),
  };
}

/** The in-memory twin of the Elasticsearch query in adapters/elastic/case-queries.ts. */
export function matchesFilter(c: CaseSummary, f: CaseFilter): boolean {
  if (f.status !== undefined && c.status !== f.status) return false;
  if (f.rule !== undefined && !c.rules.includes(f.rule)) return false;
  if (f.updatedSince !== undefined && Date.parse(c.updatedAt) < Date.parse(f.updatedSince)) return false;
  if (f.accountIdPrefix !== undefined && !c.accountId.toLowerCase().startsWith(f.accountIdPrefix.toLowerCase())) return false;
  return true;
}

/** `7d`, `24h`, ... back from `now`, or an ISO instant; undefined if it is neither. */
export function parseSince(text: string, now: number): string | undefined {
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(now - ms).toISOString();
  const at = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}
