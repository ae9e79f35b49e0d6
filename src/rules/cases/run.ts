import type { Strike } from '../../contract/outputs.js';
import { Pipeline } from '../../engine/pipeline.js';
import type { Policy } from '../../policy/schema.js';
import type { RuleSet } from '../ruleset.js';
import type { LoadedCase } from './load.js';

/** One expectation of a case against what the engine did. */
export interface ExpectationResult {
  readonly kind: 'strikes' | 'noStrikes';
  readonly rule: string;
  /** Undefined for "no strikes for any account". */
  readonly account?: string;
  readonly mode?: Strike['mode'];
  /** `≥1`, an exact count, or `0`. */
  readonly expected: string;
  readonly actual: number;
  readonly ok: boolean;
  /** The matching strikes, to show when and why they happened. */
  readonly strikes: readonly Strike[];
}

export interface CaseResult {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly name: string;
  readonly passed: boolean;
  readonly expectations: readonly ExpectationResult[];
  /** Strikes per `rule account` (enforced and shadow), for context when a case fails. */
  readonly strikeCounts: Record<string, number>;
  readonly events: { readonly sent: number; readonly accepted: number; readonly duplicates: number; readonly late: number };
}

/** The set with only the named rules (all of them when no names are given). */
function subset(rules: RuleSet, names: readonly string[] | undefined): RuleSet {
  return names ? { ...rules, rules: rules.rules.filter((r) => names.includes(r.spec.id)) } : rules;
}

/** Runs one case through a fresh Pipeline on event time and checks its expectations. */
export function runCase(rules: RuleSet, policy: Policy, c: LoadedCase): CaseResult {
  const strikes: Strike[] = [];
  const pipeline = new Pipeline(subset(rules, c.spec.rules), policy, {
    strike: (s) => strikes.push(s),
    shadowStrike: (s) => strikes.push(s),
    transition: () => {},
    speed: () => {},
  });
  for (const e of c.events) pipeline.ingest(e);

  const expectations: ExpectationResult[] = [
    ...c.spec.expect.strikes.map((e) => {
      const hits = strikes.filter((s) => s.ruleId === e.rule && s.accountId === e.account && (e.mode === undefined || s.mode === e.mode));
      const ok = e.count === undefined ? hits.length >= 1 : hits.length === e.count;
      return { kind: 'strikes' as const, rule: e.rule, account: e.account, ...(e.mode ? { mode: e.mode } : {}), expected: e.count === undefined ? '≥1' : String(e.count), actual: hits.length, ok, strikes: hits };
    }),
    ...c.spec.expect.noStrikes.map((e) => {
      const hits = strikes.filter((s) => s.ruleId === e.rule && (e.account === undefined || s.accountId === e.account));
      return { kind: 'noStrikes' as const, rule: e.rule, ...(e.account ? { account: e.account } : {}), expected: '0', actual: hits.length, ok: hits.length === 0, strikes: hits };
    }),
  ];
  const strikeCounts: Record<string, number> = {};
  for (const s of strikes) strikeCounts[`${s.ruleId} ${s.accountId}`] = (strikeCounts[`${s.ruleId} ${s.accountId}`] ?? 0) + 1;
  const { accepted, duplicates, late } = pipeline.stats;
  return {
    file: c.file,
    line: c.line,
    column: c.column,
    name: c.spec.name,
    passed: expectations.every((e) => e.ok),
    expectations,
    strikeCounts,
    events: { sent: c.events.length, accepted, duplicates, late },
  };
}
