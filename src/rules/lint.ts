import { domainOf, eventWith, type FieldDomain, type FieldValue } from './domains.js';
import { Located, type RuleIssue, type RuleSource } from './located.js';
import { compileMatch, type Predicate } from './match.js';
import type { CompiledRule, RuleSet } from './ruleset.js';
import { LIST_REF, type EventField, type MatchExpr, type MatchLeaf } from './schema.js';
import { closest } from './suggest.js';

/**
 * Warnings about a rule set that loads: lists nobody reads, rules that can never fire, enforced rules without tests.
 * "Never fires" is only said when no valid event can make it fire (sound, tested by brute force), so `--strict` can
 * fail a build on it; the one judgement call, maxCv 0, says "practically".
 */

type Path = Array<string | number>;
type At = (path: Path, code: string, message: string, hint?: string) => RuleIssue;

/** A leaf that must hold for the rule's match to hold (inside top-level entries, `all`, and negated `any`/`not`). */
interface Conjunct {
  readonly leaf: MatchLeaf;
  readonly negated: boolean;
  readonly path: Path;
  readonly holds: Predicate;
}

function conjuncts(expr: MatchExpr, path: Path, negated: boolean, lists: RuleSet['lists'], out: Conjunct[]): void {
  if ('all' in expr) {
    // not(all) is a disjunction: nothing in it must hold.
    if (!negated) expr.all.forEach((x, i) => conjuncts(x, [...path, 'all', i], false, lists, out));
  } else if ('any' in expr) {
    if (negated || expr.any.length === 1) expr.any.forEach((x, i) => conjuncts(x, [...path, 'any', i], negated, lists, out));
  } else if ('not' in expr) {
    conjuncts(expr.not, [...path, 'not'], !negated, lists, out);
  } else {
    const p = compileMatch([expr], lists);
    out.push({ leaf: expr, negated, path, holds: negated ? (e, ts) => !p(e, ts) : p });
  }
}

const accepts = (c: Conjunct, value: FieldValue | undefined): boolean => {
  const { event, ts } = eventWith(c.leaf.field, value);
  return c.holds(event, ts);
};
const absentOnly = (c: Conjunct): boolean => (c.leaf.op === 'absent' && !c.negated) || (c.leaf.op === 'exists' && c.negated);

function listedValues(leaf: MatchLeaf, lists: RuleSet['lists']): FieldValue[] {
  const raw = leaf.value === undefined ? [] : Array.isArray(leaf.value) ? leaf.value : [leaf.value];
  return raw.flatMap((v) => {
    const ref = typeof v === 'string' ? LIST_REF.exec(v) : null;
    return ref ? (lists.get(ref[1]!)?.items ?? []) : [v];
  });
}

const show = (v: FieldValue | undefined) => (typeof v === 'string' ? `"${v}"` : String(v));
const where = (p: Path) => p.join('.');

/** What the match allows for each field it constrains: `absent`, or the finite set of values left (if finite). */
type FieldFacts = Map<EventField, { absent: boolean; values?: FieldValue[] }>;

interface RuleLint {
  readonly issues: RuleIssue[];
  readonly facts: FieldFacts;
}

function lintMatch(rule: CompiledRule, lists: RuleSet['lists'], at: At): RuleLint {
  const all: Conjunct[] = [];
  rule.spec.match.forEach((x, i) => conjuncts(x, ['match', i], false, lists, all));
  const issues: RuleIssue[] = [];
  const facts: FieldFacts = new Map();
  const fields = [...new Set(all.map((c) => c.leaf.field))];
  for (const field of fields) {
    const mine = all.filter((c) => c.leaf.field === field);
    const domain = domainOf(field);
    const absent = mine.find(absentOnly);
    if (absent) {
      facts.set(field, { absent: true });
      if (domain.required) {
        issues.push(at(absent.path, 'match.never', `"${field}" is in every event, so requiring it absent never matches: the rule never fires`));
        continue;
      }
      const present = mine.find((c) => !accepts(c, undefined));
      if (present) issues.push(contradiction(at, field, [absent], present));
      continue;
    }
    const positive = mine.filter((c) => !c.negated && (c.leaf.op === 'equals' || c.leaf.op === 'in'));
    if (positive.length === 0 && !domain.values) continue;
    const dead = positive.flatMap((c) => deadValues(c, domain, lists, at));
    issues.push(...dead);
    // An equals / in whose every value is impossible already says the rule never fires.
    if (dead.some((i) => i.code === 'match.never')) continue;
    // An optional field may also be missing: `client not-in [every client]` still matches events without one.
    let left: Array<FieldValue | undefined> = domain.values
      ? [...domain.values, ...(domain.required ? [] : [undefined])]
      : [...new Set(positive.flatMap((c) => listedValues(c.leaf, lists)))];
    for (let k = 0; k < mine.length; k++) {
      const c = mine[k]!;
      left = left.filter((v) => accepts(c, v));
      if (left.length > 0) continue;
      issues.push(
        k === 0
          ? at(c.path, 'match.never', `no value of "${field}" satisfies this: the rule never fires`)
          : contradiction(at, field, mine.slice(0, k), c),
      );
      break;
    }
    facts.set(field, { absent: false, values: left.filter((v) => v !== undefined) });
  }
  return { issues, facts };
}

function contradiction(at: At, field: EventField, before: Conjunct[], c: Conjunct): RuleIssue {
  return at(c.path, 'match.contradiction', `contradicts ${before.map((b) => where(b.path)).join(', ')}: no "${field}" satisfies all of them, so the rule never fires`);
}

/**
 * Values an equals / in lists that the field can never hold: a typo like `generation.request`, "true" in quotes for a
 * boolean, or a bare number for a text field (YAML reads `plan: 2024` as a number).
 */
function deadValues(c: Conjunct, domain: FieldDomain, lists: RuleSet['lists'], at: At): RuleIssue[] {
  const possible = domain.values;
  if (!possible && !domain.text) return [];
  const values = listedValues(c.leaf, lists);
  const dead = values.filter((v) => (possible ? !possible.includes(v) : typeof v !== 'string'));
  if (dead.length === 0) return [];
  const allDead = dead.length === values.length;
  const hint = dead
    .map((v) => {
      if (!possible) return `"${c.leaf.field}" holds text: quote it, "${String(v)}"`;
      const quoted = possible.find((d) => String(d) === String(v));
      const near = closest(String(v), possible.map(String));
      return quoted !== undefined ? `write ${String(quoted)} without quotes` : near ? `did you mean \`${near}\`?` : `"${c.leaf.field}" is one of ${possible.map(show).join(', ')}`;
    })
    .join('; ');
  const never = allDead ? ': the rule never fires' : ' (that value never matches)';
  return [at([...c.path, 'value'], allDead ? 'match.never' : 'match.dead-value', `"${c.leaf.field}" is never ${dead.map(show).join(' or ')}${never}`, hint)];
}

/** Conditions that cannot be met given what the match allows. */
function lintConditions(rule: CompiledRule, facts: FieldFacts, at: At): RuleIssue[] {
  const out: RuleIssue[] = [];
  const { groupBy, conditions } = rule.spec;
  if (facts.get(groupBy)?.absent) {
    out.push(at(['groupBy'], 'rule.never-fires', `the rule groups by "${groupBy}" but its match requires "${groupBy}" absent: events without the key are never counted`));
  }
  conditions.forEach((c, j) => {
    if (c.kind === 'distinct') {
      const fact = facts.get(c.field);
      const possible = fact ? fact.values : domainOf(c.field).values;
      if (fact?.absent) {
        out.push(at(['conditions', j, 'field'], 'rule.never-fires', `counts distinct "${c.field}" but the match requires "${c.field}" absent: the count stays 0`));
      } else if (possible && possible.length < c.threshold) {
        const which = possible.length === 0 ? 'no values' : possible.map(show).join(', ');
        out.push(at(['conditions', j, 'threshold'], 'rule.never-fires', `"${c.field}" can only be ${which} here, so distinct can reach ${possible.length} and never ${c.threshold}`));
      }
    }
    if (c.kind === 'cadence' && c.maxCv === 0) {
      out.push(
        at(['conditions', j, 'maxCv'], 'condition.exact-cadence', 'maxCv 0 needs every gap identical to the millisecond: real clients jitter, so this practically never fires', 'use a small tolerance such as 0.05'),
      );
    }
  });
  return out;
}

function listRefs(expr: MatchExpr, out: Set<string>): void {
  if ('all' in expr) expr.all.forEach((x) => listRefs(x, out));
  else if ('any' in expr) expr.any.forEach((x) => listRefs(x, out));
  else if ('not' in expr) listRefs(expr.not, out);
  else for (const v of expr.value === undefined ? [] : Array.isArray(expr.value) ? expr.value : [expr.value]) {
    const ref = typeof v === 'string' ? LIST_REF.exec(v) : null;
    if (ref) out.add(ref[1]!);
  }
}

/** Rule ids a directory's `*.test.yaml` cases expect something of. */
export type TestedRules = ReadonlySet<string>;

export function lintRuleSet(sources: readonly RuleSource[], set: RuleSet, tested: TestedRules): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const ruleAt = new Map<string, { loc: Located; index: number }>();
  const listAt = new Map<string, Located>();
  for (const source of sources) {
    const loc = new Located(source);
    const data = loc.data();
    if (!data.ok) continue;
    const doc = (data.value ?? {}) as { rules?: Array<{ id?: unknown }>; lists?: Record<string, unknown> };
    doc.rules?.forEach((r, index) => typeof r.id === 'string' && ruleAt.set(r.id, { loc, index }));
    for (const name of Object.keys(doc.lists ?? {})) if (!listAt.has(name)) listAt.set(name, loc);
  }

  const used = new Set<string>();
  for (const rule of set.rules) {
    rule.spec.match.forEach((x) => listRefs(x, used));
    const place = ruleAt.get(rule.spec.id);
    if (!place) continue;
    const at = (path: Path, code: string, message: string, hint?: string) => place.loc.issue(['rules', place.index, ...path], code, message, undefined, hint);
    const { issues: matchIssues, facts } = lintMatch(rule, set.lists, at);
    issues.push(...matchIssues, ...lintConditions(rule, facts, at));
    if (rule.spec.mode === 'enforce' && !tested.has(rule.spec.id)) {
      issues.push(at(['id'], 'rule.untested', `enforced rule "${rule.spec.id}" has no test case`, 'add a case to a *.test.yaml file that expects strikes (or noStrikes) of this rule'));
    }
  }
  for (const [name, loc] of listAt) {
    if (!used.has(name)) {
      issues.push(loc.issue(['lists'], 'list.unused', `list "${name}" is not used by any rule`, name, `reference it as $${name} in a match, or remove it`));
    }
  }
  return issues;
}
