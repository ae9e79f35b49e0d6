import { evaluate } from '../simulate/evaluate.js';
import type { Evaluation, Label } from '../simulate/labels.js';
import { iso } from '../time/instant.js';
import { bucketWidth } from './buckets.js';
import type { BacktestRun, SideRun, SideSummary } from './run.js';

/** The backtest's figures: what the HTML report shows and `--json` writes, computed once. */

const CHART_BUCKETS = 60;
const TOP_OFFENDERS = 25;

export interface RuleFigures {
  rule: string;
  mode: string;
  version: string;
  strikes: number;
  shadowStrikes: number;
  accounts: number;
  /** Of the accounts the rule struck: how many are labelled abusive / human (with labels). */
  abusive?: number;
  human?: number;
  precision?: number | null;
}

export interface SideFigures {
  rules: string;
  policy: string;
  summary: SideSummary;
  flagged: number;
  shadowOnlyFlagged: number;
  perRule: RuleFigures[];
  /** Strike counts per rule per bucket: `series[rule][i]` covers `[from + i·bucket, from + (i+1)·bucket)`. */
  series: Record<string, number[]>;
  evaluation?: Evaluation;
  /** As if the shadow rules were enforced: what promoting them would do. */
  evaluationWithShadow?: Evaluation;
}

export interface RuleChange {
  rule: string;
  change: 'added' | 'removed' | 'changed' | 'unchanged';
  candidateVersion?: string;
  baselineVersion?: string;
  candidateMode?: string;
  baselineMode?: string;
}

export interface OffenderRow {
  account: string;
  points: number;
  strikes: number;
  shadowStrikes: number;
  rules: string[];
  status: string;
  firstStrike: string;
  persona?: string;
  abusive?: boolean;
}

export interface BacktestReport {
  input: string;
  /** Event time span of the valid input; null when it had none. */
  from: string | null;
  to: string | null;
  bucket: number;
  buckets: string[];
  candidate: SideFigures;
  baseline?: SideFigures;
  diff?: { newlyFlagged: string[]; noLongerFlagged: string[]; rules: RuleChange[] };
  topOffenders: OffenderRow[];
}

const flaggedOf = (side: SideRun) => new Set([...side.offenders].filter(([, o]) => o.strikes > 0).map(([a]) => a));

function sideFigures(side: SideRun, from: number, bucket: number, count: number, labels: ReadonlyMap<string, Label> | undefined): SideFigures {
  const series: Record<string, number[]> = {};
  for (const rule of side.pack.rules.rules) {
    const counts = new Array<number>(count).fill(0);
    for (const ts of side.strikeTimes.get(rule.spec.id) ?? []) counts[Math.min(count - 1, Math.floor((ts - from) / bucket))]!++;
    series[rule.spec.id] = counts;
  }
  const perRule = side.pack.rules.rules.map((rule): RuleFigures => {
    const id = rule.spec.id;
    const accounts = [...(side.accountsByRule.get(id) ?? [])];
    const base = { rule: id, mode: rule.spec.mode, version: rule.version, strikes: side.summary.strikesByRule[id] ?? 0, shadowStrikes: side.summary.shadowStrikesByRule[id] ?? 0, accounts: accounts.length };
    if (!labels) return base;
    const abusive = accounts.filter((a) => labels.get(a)?.abusive === true).length;
    const human = accounts.filter((a) => labels.get(a)?.abusive === false).length;
    return { ...base, abusive, human, precision: abusive + human === 0 ? null : abusive / (abusive + human) };
  });
  const flagged = flaggedOf(side);
  const figures: SideFigures = {
    rules: side.pack.dir,
    policy: side.pack.policyFile,
    summary: side.summary,
    flagged: flagged.size,
    shadowOnlyFlagged: side.shadowOnly.size,
    perRule,
    series,
  };
  if (labels) {
    const all = [...labels.values()];
    figures.evaluation = evaluate(all, flagged);
    figures.evaluationWithShadow = evaluate(all, [...flagged, ...side.shadowOnly]);
  }
  return figures;
}

function ruleChanges(candidate: SideRun, baseline: SideRun): RuleChange[] {
  const c = new Map(candidate.pack.rules.rules.map((r) => [r.spec.id, r]));
  const b = new Map(baseline.pack.rules.rules.map((r) => [r.spec.id, r]));
  return [...new Set([...c.keys(), ...b.keys()])].sort().map((rule) => {
    const now = c.get(rule);
    const before = b.get(rule);
    const change = !before ? 'added' : !now ? 'removed' : now.version === before.version ? 'unchanged' : 'changed';
    return {
      rule,
      change,
      ...(now ? { candidateVersion: now.version, candidateMode: now.spec.mode } : {}),
      ...(before ? { baselineVersion: before.version, baselineMode: before.spec.mode } : {}),
    };
  });
}

export function buildReport(run: BacktestRun, input: string, labels?: readonly Label[]): BacktestReport {
  const byAccount = labels ? new Map(labels.map((l) => [l.accountId, l])) : undefined;
  const span = run.from === undefined || run.to === undefined ? undefined : { first: run.from, last: run.to };
  const bucket = bucketWidth(span ? span.last - span.first + 1 : 0, CHART_BUCKETS);
  const from = span ? Math.floor(span.first / bucket) * bucket : 0;
  const count = span ? Math.ceil((span.last + 1 - from) / bucket) : 0;
  const report: BacktestReport = {
    input,
    from: span ? iso(span.first) : null,
    to: span ? iso(span.last) : null,
    bucket,
    buckets: Array.from({ length: count }, (_, i) => iso(from + i * bucket)),
    candidate: sideFigures(run.candidate, from, bucket, count, byAccount),
    topOffenders: [...run.candidate.offenders]
      .sort(([a, x], [b, y]) => y.points - x.points || y.strikes - x.strikes || y.shadowStrikes - x.shadowStrikes || (a < b ? -1 : 1))
      .slice(0, TOP_OFFENDERS)
      .map(([account, o]) => {
        const label = byAccount?.get(account);
        return {
          account,
          points: o.points,
          strikes: o.strikes,
          shadowStrikes: o.shadowStrikes,
          rules: [...o.rules].sort(),
          status: o.status,
          firstStrike: iso(o.firstStrike),
          ...(label ? { persona: label.persona, abusive: label.abusive } : {}),
        };
      }),
  };
  if (run.baseline) {
    const now = flaggedOf(run.candidate);
    const before = flaggedOf(run.baseline);
    report.baseline = sideFigures(run.baseline, from, bucket, count, byAccount);
    report.diff = {
      newlyFlagged: [...now].filter((a) => !before.has(a)).sort(),
      noLongerFlagged: [...before].filter((a) => !now.has(a)).sort(),
      rules: ruleChanges(run.candidate, run.baseline),
    };
  }
  return report;
}
