import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MatchError, compileMatch } from './match.js';
import { contentHash, type CompiledRule, type RuleSet } from './ruleset.js';
import { parseCidr } from './cidr.js';
import { fileIssue, parseSource, type Located, type RuleIssue, type RuleSource } from './located.js';
import { RuleFile, type NamedList, type RuleSpec } from './schema.js';
import { didYouMean } from './suggest.js';

export type { RuleIssue, RuleSource } from './located.js';

export class RuleLoadError extends Error {
  constructor(readonly issues: readonly RuleIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'RuleLoadError';
  }
}

export function formatIssue(i: RuleIssue): string {
  const rule = i.ruleId ? ` rule "${i.ruleId}"` : '';
  return `${i.file}:${i.line}:${i.column}${rule} ${i.path ? `at ${i.path}` : ''}: ${i.message} [${i.code}]`;
}

/** Files of a rule directory that hold rules and lists (policy and rule tests live beside them). */
export function isRuleFile(name: string): boolean {
  return /\.ya?ml$/.test(name) && !/\.test\.ya?ml$/.test(name) && !/^policy\.ya?ml$/.test(name);
}

/** Larger rule or test files are refused unread: the whole pack is a few kilobytes. */
export const MAX_SOURCE_BYTES = 4 * 1024 * 1024;

/** Reads one rule, policy or test file; anything but a regular file of sane size is refused (a FIFO would hang). */
export async function readSource(file: string): Promise<RuleSource> {
  const st = await stat(file);
  if (!st.isFile()) throw new RuleLoadError([fileIssue(file, 'file.not-regular', 'not a regular file')]);
  if (st.size > MAX_SOURCE_BYTES) throw new RuleLoadError([fileIssue(file, 'file.too-large', `${st.size} bytes; rule files may have at most ${MAX_SOURCE_BYTES}`)]);
  return { file, text: await readFile(file, 'utf8') };
}

/** Reads the files of a directory whose names pass `accept`, sorted by name; refuses the lot if any is refused. */
export async function readSources(dir: string, accept: (name: string) => boolean): Promise<RuleSource[]> {
  const names = (await readdir(dir)).filter(accept).sort();
  const read = await Promise.allSettled(names.map((name) => readSource(join(dir, name))));
  const refused = read.flatMap((r) => (r.status === 'rejected' && r.reason instanceof RuleLoadError ? r.reason.issues : []));
  const failed = read.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !(r.reason instanceof RuleLoadError));
  if (failed) throw failed.reason;
  if (refused.length > 0) throw new RuleLoadError(refused);
  return read.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
}

export async function readRuleDir(dir: string): Promise<RuleSource[]> {
  return readSources(dir, isRuleFile);
}

export async function loadRuleDir(dir: string): Promise<RuleSet> {
  return loadRules(await readRuleDir(dir));
}

/**
 * Validates and compiles rule sources as one set. Any error rejects the whole set, so a bad file never loads half.
 */
export function loadRules(sources: readonly RuleSource[]): RuleSet {
  const issues: RuleIssue[] = [];
  const lists = new Map<string, NamedList>();
  const parsed: Array<{ loc: Located; rules: RuleSpec[] }> = [];

  for (const source of sources) {
    const result = parseSource(source, RuleFile, 'rule-file.schema.json');
    if (!result.ok) {
      issues.push(...result.issues);
      continue;
    }
    const { loc } = result;
    for (const [name, list] of Object.entries(result.value.lists ?? {})) {
      list.items.forEach((item, i) => {
        if (list.kind === 'cidr' && (typeof item !== 'string' || !parseCidr(item))) {
          issues.push(loc.issue(['lists', name, 'items', i], 'list.bad-cidr', `"${String(item)}" is not an IP address or CIDR range`));
        }
      });
    }
    for (const [name, list] of Object.entries(result.value.lists ?? {})) {
      if (lists.has(name)) issues.push(loc.issue(['lists'], 'list.duplicate', `list "${name}" is declared in more than one file`, name));
      lists.set(name, list);
    }
    parsed.push({ loc, rules: result.value.rules ?? [] });
  }

  const rules: CompiledRule[] = [];
  const seen = new Map<string, string>();
  for (const { loc, rules: specs } of parsed) {
    specs.forEach((spec, i) => {
      const first = seen.get(spec.id);
      if (first) {
        issues.push(loc.issue(['rules', i, 'id'], 'rule.duplicate-id', `rule id "${spec.id}" is already used in ${first}`));
        return;
      }
      seen.set(spec.id, loc.source.file);
      issues.push(...semanticIssues(loc, i, spec));
      try {
        const usedLists = new Map<string, NamedList>();
        const matches = compileMatch(spec.match, lists, usedLists);
        const raw = loc.doc.getIn(['rules', i]) as { toJSON(): unknown };
        const listsRead = Object.fromEntries(usedLists);
        rules.push({
          spec,
          version: contentHash({ rule: raw.toJSON(), lists: listsRead }),
          windowSignature: contentHash({ groupBy: spec.groupBy, match: spec.match, conditions: spec.conditions, lists: listsRead }),
          file: loc.source.file,
          matches,
        });
      } catch (err) {
        if (!(err instanceof MatchError)) throw err;
        const hint = err.code === 'list.unknown' ? unknownListHint(err.message, lists) : undefined;
        issues.push(loc.issue(['rules', i, ...err.path], err.code, err.message, undefined, hint));
      }
    });
  }

  if (issues.length > 0) throw new RuleLoadError(issues);
  return { rules, lists, files: sources.map((s) => s.file) };
}

function unknownListHint(message: string, lists: ReadonlyMap<string, NamedList>): string {
  const name = /"\$([^"]*)"/.exec(message)?.[1] ?? '';
  if (lists.size === 0) return 'no lists are declared: add it under `lists:` (e.g. in lists.yaml)';
  return didYouMean(name, [...lists.keys()], 'lists').replace(/`([^`]+)`/g, '`$$$1`');
}

/** Checks that the schema alone cannot express: what makes sense for a rule's grouping and conditions. */
function semanticIssues(loc: Located, i: number, spec: RuleSpec): RuleIssue[] {
  const out: RuleIssue[] = [];
  spec.conditions.forEach((c, j) => {
    const at = ['rules', i, 'conditions', j];
    if (c.kind === 'concurrency' && spec.groupBy !== 'accountId') {
      out.push(loc.issue(at, 'condition.scope', 'concurrency counts generations in flight per account: it needs groupBy: accountId'));
    }
    if (c.kind === 'distinct' && c.field === spec.groupBy) {
      out.push(loc.issue([...at, 'field'], 'condition.self-distinct', `distinct "${c.field}" per "${spec.groupBy}" is always 1`));
    }
  });
  return out;
}
