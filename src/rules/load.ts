import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { MatchError, compileMatch } from './match.js';
import { contentHash, type CompiledRule, type RuleSet } from './ruleset.js';
import { parseCidr } from './cidr.js';
import { RuleFile, type NamedList, type RuleSpec } from './schema.js';

/** One problem in a rule file, located precisely enough for an editor or a CI log. */
export interface RuleIssue {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly ruleId?: string;
  /** Dotted path inside the file, e.g. `rules.0.conditions.1.window`. */
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/** Aliases a rule file may expand: anchors are handy for shared snippets, but not for a billion laughs. */
const MAX_ALIAS_COUNT = 100;

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

export interface RuleSource {
  readonly file: string;
  readonly text: string;
}

/** Files of a rule directory that hold rules and lists (policy and rule tests live beside them). */
export function isRuleFile(name: string): boolean {
  return /\.ya?ml$/.test(name) && !/\.test\.ya?ml$/.test(name) && !/^policy\.ya?ml$/.test(name);
}

export async function readRuleDir(dir: string): Promise<RuleSource[]> {
  const names = (await readdir(dir)).filter(isRuleFile).sort();
  return Promise.all(names.map(async (name) => ({ file: join(dir, name), text: await readFile(join(dir, name), 'utf8') })));
}

export async function loadRuleDir(dir: string): Promise<RuleSet> {
  return loadRules(await readRuleDir(dir));
}

class Located {
  private readonly lines = new LineCounter();
  readonly doc: Document;
  constructor(readonly source: RuleSource) {
    this.doc = parseDocument(source.text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false });
  }

  /** Position of the node at `path` (or of `key` inside it), falling back to the nearest ancestor that exists. */
  at(path: readonly PropertyKey[], key?: string): { line: number; column: number } {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
      if (!node?.range) continue;
      let offset = node.range[0];
      if (n === path.length && key !== undefined && isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
        if (pair && isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
      }
      const { line, col } = this.lines.linePos(offset);
      return { line, column: col };
    }
    return { line: 1, column: 1 };
  }

  /** An issue at a character offset of the file, for problems found before the document has a structure. */
  issueAt(offset: number, code: string, message: string): RuleIssue {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.source.file, line, column: col, path: '', code, message };
  }

  issue(path: readonly PropertyKey[], code: string, message: string, key?: string): RuleIssue {
    const ruleIndex = path[0] === 'rules' && typeof path[1] === 'number' ? path[1] : undefined;
    const rawId = ruleIndex === undefined ? undefined : this.doc.getIn(['rules', ruleIndex, 'id']);
    const shown = key === undefined ? path : [...path, key];
    return {
      file: this.source.file,
      ...this.at(path, key),
      ...(typeof rawId === 'string' ? { ruleId: rawId } : {}),
      path: shown.map(String).join('.'),
      code,
      message,
    };
  }
}

function zodIssueCode(issue: z.core.$ZodIssue): string {
  const last = issue.path[issue.path.length - 1];
  switch (issue.code) {
    case 'unrecognized_keys':
      return 'key.unknown';
    case 'invalid_type':
      return issue.input === undefined ? 'key.missing' : 'type';
    case 'invalid_value':
      return last === 'field' || last === 'groupBy' ? 'field.unknown' : 'value.enum';
    case 'invalid_union':
      return issue.path.includes('conditions') ? 'condition.invalid' : 'match.invalid';
    case 'custom':
      return issue.message.startsWith('invalid duration') ? 'duration' : 'value';
    default:
      return `value.${issue.code}`;
  }
}

/**
 * Flattens zod issues into rule issues. A union (match expressions) reports every branch's failure; the branch with
 * the fewest problems is the one the author meant, so its issues are reported instead of a vague "invalid input".
 */
function zodIssues(loc: Located, issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]): RuleIssue[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => loc.issue(path, 'key.unknown', `unknown key "${key}"`, key));
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branch = issue.errors.reduce((best, b) => (b.length < best.length ? b : best));
      if (branch.length > 0) return zodIssues(loc, branch, path);
    }
    return [loc.issue(path, zodIssueCode(issue), issue.message)];
  });
}

/**
 * Validates and compiles rule sources as one set. Any error rejects the whole set, so a bad file never loads half.
 */
export function loadRules(sources: readonly RuleSource[]): RuleSet {
  const issues: RuleIssue[] = [];
  const lists = new Map<string, NamedList>();
  const parsed: Array<{ loc: Located; rules: RuleSpec[] }> = [];

  for (const source of sources) {
    const loc = new Located(source);
    if (loc.doc.errors.length > 0) {
      for (const e of loc.doc.errors) issues.push(loc.issueAt(e.pos[0], 'yaml.syntax', e.message.split('\n')[0]!));
      continue;
    }
    let raw: unknown;
    try {
      raw = loc.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // The yaml library refuses documents whose aliases expand past the limit ("billion laughs").
      issues.push(loc.issueAt(0, 'yaml.aliases', (err as Error).message));
      continue;
    }
    const result = RuleFile.safeParse(raw ?? {}, { reportInput: true });
    if (!result.success) {
      issues.push(...zodIssues(loc, result.error.issues, []));
      continue;
    }
    for (const [name, list] of Object.entries(result.data.lists ?? {})) {
      list.items.forEach((item, i) => {
        if (list.kind === 'cidr' && (typeof item !== 'string' || !parseCidr(item))) {
          issues.push(loc.issue(['lists', name, 'items', i], 'list.bad-cidr', `"${String(item)}" is not an IP address or CIDR range`));
        }
      });
    }
    for (const [name, list] of Object.entries(result.data.lists ?? {})) {
      if (lists.has(name)) issues.push(loc.issue(['lists'], 'list.duplicate', `list "${name}" is declared in more than one file`, name));
      lists.set(name, list);
    }
    parsed.push({ loc, rules: result.data.rules ?? [] });
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
        issues.push(loc.issue(['rules', i, ...err.path], err.code, err.message));
      }
    });
  }

  if (issues.length > 0) throw new RuleLoadError(issues);
  return { rules, lists, files: sources.map((s) => s.file) };
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
