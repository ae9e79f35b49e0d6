import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Policy } from '../policy/schema.js';
import { isTestFile, loadTests, type LoadedTests } from './cases/load.js';
import { fileIssue, type RuleIssue, type RuleSource } from './located.js';
import { lintRuleSet } from './lint.js';
import { isRuleFile, loadRules, readSource, RuleLoadError } from './load.js';
import { checkPolicy, isPolicyFile } from './pack.js';
import type { RuleSet } from './ruleset.js';

export type Severity = 'error' | 'warning';

export interface Finding extends RuleIssue {
  readonly severity: Severity;
}

export interface Validation {
  readonly dir: string;
  /** Errors first by file and position, then warnings; under `strict` warnings are errors. */
  readonly findings: readonly Finding[];
  /** Every file read, to quote the offending lines. */
  readonly sources: ReadonlyMap<string, string>;
  readonly rules: RuleSet | undefined;
  /** The directory's own policy, when it has a valid one. */
  readonly policy: Policy | undefined;
  readonly tests: LoadedTests;
  readonly files: number;
}

/** Reads each file, turning a refused one (FIFO, too large) into an issue instead of stopping the whole run. */
async function readAll(files: readonly string[], issues: RuleIssue[]): Promise<RuleSource[]> {
  const out: RuleSource[] = [];
  for (const file of files) {
    try {
      out.push(await readSource(file));
    } catch (err) {
      if (err instanceof RuleLoadError) issues.push(...err.issues);
      else if ((err as NodeJS.ErrnoException).code) issues.push(fileIssue(file, 'file.unreadable', (err as Error).message));
      else throw err;
    }
  }
  return out;
}

/**
 * Everything `fairuse rules validate` checks in a directory: rule files (errors), the policy file, rule test files,
 * then warnings from lint on a set that loads.
 */
export async function validateDir(dir: string, opts: { strict?: boolean } = {}): Promise<Validation> {
  const names = (await readdir(dir)).sort();
  const errors: RuleIssue[] = [];
  const ruleNames = names.filter(isRuleFile);
  const ruleSources = await readAll(ruleNames.map((n) => join(dir, n)), errors);
  const policySources = await readAll(names.filter(isPolicyFile).map((n) => join(dir, n)), errors);
  const testSources = await readAll(names.filter(isTestFile).map((n) => join(dir, n)), errors);
  if (ruleNames.length === 0) errors.push(fileIssue(dir, 'dir.no-rules', 'no rule files (*.yaml) in this directory'));

  let rules: RuleSet | undefined;
  try {
    // Only a complete set is loaded: rules checked without an unreadable file's lists would report false errors.
    rules = ruleNames.length > 0 && ruleSources.length === ruleNames.length ? loadRules(ruleSources) : undefined;
  } catch (err) {
    if (!(err instanceof RuleLoadError)) throw err;
    errors.push(...err.issues);
  }
  let policy: Policy | undefined;
  for (const source of policySources) {
    const checked = checkPolicy(source);
    if ('issues' in checked) errors.push(...checked.issues);
    else policy = checked.policy;
  }
  const tests = loadTests(testSources, rules);
  errors.push(...tests.issues);
  const warnings = rules ? lintRuleSet(ruleSources, rules, tests.tested) : [];

  const order = (a: RuleIssue, b: RuleIssue) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column;
  const findings: Finding[] = [
    ...errors.sort(order).map((i) => ({ ...i, severity: 'error' as const })),
    ...warnings.sort(order).map((i) => ({ ...i, severity: opts.strict ? ('error' as const) : ('warning' as const) })),
  ];
  const sources = new Map([...ruleSources, ...policySources, ...testSources].map((s) => [s.file, s.text]));
  return { dir, findings, sources, rules, policy, tests, files: sources.size };
}

export function counts(v: Validation): { errors: number; warnings: number } {
  const errors = v.findings.filter((f) => f.severity === 'error').length;
  return { errors, warnings: v.findings.length - errors };
}
