import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Policy } from '../policy/schema.js';
import { parseSource, type RuleIssue, type RuleSource } from './located.js';
import { loadRuleDir, readSource, RuleLoadError } from './load.js';
import type { RuleSet } from './ruleset.js';

/** A rule directory's rules with the policy they run under. */
export interface Pack {
  readonly dir: string;
  readonly rules: RuleSet;
  readonly policy: Policy;
  readonly policyFile: string;
}

/** Validates a policy file with the same located issues and hints as rule files. */
export function checkPolicy(source: RuleSource): { policy: Policy } | { issues: RuleIssue[] } {
  const result = parseSource(source, Policy, 'policy.schema.json');
  return result.ok ? { policy: result.value } : { issues: result.issues };
}

export const isPolicyFile = (name: string): boolean => /^policy\.ya?ml$/.test(name);

/** The directory's own policy file if it has one, else `fallback`. */
export async function policyFileOf(dir: string, fallback: string): Promise<string> {
  for (const name of ['policy.yaml', 'policy.yml']) {
    const file = join(dir, name);
    if ((await stat(file).catch(() => undefined))?.isFile()) return file;
  }
  return fallback;
}

export async function loadPolicyFile(file: string): Promise<Policy> {
  const checked = checkPolicy(await readSource(file));
  if ('issues' in checked) throw new RuleLoadError(checked.issues);
  return checked.policy;
}

/** Loads a rule directory and its policy (`policy`, else the directory's policy.yaml, else `fallbackPolicy`). */
export async function loadPack(dir: string, opts: { policy?: string; fallbackPolicy: string }): Promise<Pack> {
  const policyFile = opts.policy ?? (await policyFileOf(dir, opts.fallbackPolicy));
  const [rules, policy] = await Promise.all([loadRuleDir(dir), loadPolicyFile(policyFile)]);
  return { dir, rules, policy, policyFile };
}
