import type { TimedEvent } from '../../contract/parse.js';
import { parseSource, type Located, type RuleIssue, type RuleSource } from '../located.js';
import type { RuleSet } from '../ruleset.js';
import { didYouMean } from '../suggest.js';
import { expandCase, ExpandError } from './expand.js';
import { TestFile, type TestCase } from './schema.js';

/** Files of a rule directory that hold rule tests. */
export function isTestFile(name: string): boolean {
  return /\.test\.ya?ml$/.test(name);
}

export interface LoadedCase {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly spec: TestCase;
  readonly events: readonly TimedEvent[];
}

export interface LoadedTests {
  readonly cases: LoadedCase[];
  readonly issues: RuleIssue[];
  /** Rule ids some case expects strikes or no strikes of. */
  readonly tested: Set<string>;
}

/**
 * Parses and expands rule test files, checking every rule name against the rule set (when it loaded). Cases with
 * problems are left out and reported; the others can still run.
 */
export function loadTests(sources: readonly RuleSource[], rules: RuleSet | undefined): LoadedTests {
  const cases: LoadedCase[] = [];
  const issues: RuleIssue[] = [];
  const tested = new Set<string>();
  const known = rules?.rules.map((r) => r.spec.id);
  let caseNumber = 0;
  for (const source of sources) {
    const parsed = parseSource(source, TestFile, 'rule-test.schema.json');
    if (!parsed.ok) {
      issues.push(...parsed.issues);
      continue;
    }
    const { loc } = parsed;
    parsed.value.cases.forEach((spec, i) => {
      const at = ['cases', i];
      for (const e of [...spec.expect.strikes, ...spec.expect.noStrikes]) tested.add(e.rule);
      const nameIssues = known ? ruleNameIssues(loc, at, spec, known) : [];
      issues.push(...nameIssues);
      try {
        const { events } = expandCase(spec, parsed.value.defaults, ++caseNumber);
        if (nameIssues.length === 0) cases.push({ file: source.file, ...loc.at(at), spec, events });
      } catch (err) {
        if (!(err instanceof ExpandError)) throw err;
        issues.push(loc.issue([...at, ...err.path], 'test.events', err.message));
      }
    });
  }
  return { cases, issues, tested };
}

/** Rule names a case uses must exist, and an expectation must be about a rule the case runs. */
function ruleNameIssues(loc: Located, at: Array<string | number>, spec: TestCase, known: readonly string[]): RuleIssue[] {
  const out: RuleIssue[] = [];
  const unknown = (name: string, path: Array<string | number>) =>
    loc.issue(path, 'test.unknown-rule', `no rule "${name}" in the rule directory`, undefined, didYouMean(name, known, 'rules'));
  spec.rules?.forEach((name, j) => {
    if (!known.includes(name)) out.push(unknown(name, [...at, 'rules', j]));
  });
  for (const kind of ['strikes', 'noStrikes'] as const) {
    spec.expect[kind].forEach((e, j) => {
      const path = [...at, 'expect', kind, j, 'rule'];
      if (!known.includes(e.rule)) out.push(unknown(e.rule, path));
      else if (spec.rules && !spec.rules.includes(e.rule)) {
        out.push(loc.issue(path, 'test.rule-not-run', `"${e.rule}" is not among this case's rules, so it cannot strike`, undefined, `add it to \`rules:\` or remove this expectation`));
      }
    });
  }
  return out;
}
