import { LineCounter, parseDocument, isMap, isScalar, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { STATIC_HINTS, zodHint } from './hints.js';
import type { SchemaFileName } from './json-schema.js';

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
  /** A plain fix: the nearest valid name, the valid values, what a duration looks like. */
  readonly hint?: string;
}

export interface RuleSource {
  readonly file: string;
  readonly text: string;
}

/** Aliases a file may expand: anchors are handy for shared snippets, but not for a billion laughs. */
export const MAX_ALIAS_COUNT = 100;

/** A parsed YAML source that can say where any node of it is. */
export class Located {
  private readonly lines = new LineCounter();
  readonly doc: Document;
  constructor(readonly source: RuleSource) {
    this.doc = parseDocument(source.text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false });
  }

  /** Syntax errors, or the document's data; aliases beyond the limit are refused rather than expanded. */
  data(): { ok: true; value: unknown } | { ok: false; issues: RuleIssue[] } {
    if (this.doc.errors.length > 0) {
      return { ok: false, issues: this.doc.errors.map((e) => this.issueAt(e.pos[0], 'yaml.syntax', e.message.split('\n')[0]!)) };
    }
    try {
      return { ok: true, value: this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
    } catch (err) {
      return { ok: false, issues: [this.issueAt(0, 'yaml.aliases', (err as Error).message)] };
    }
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
    return withHint({ file: this.source.file, line, column: col, path: '', code, message });
  }

  issue(path: readonly PropertyKey[], code: string, message: string, key?: string, hint?: string): RuleIssue {
    const ruleIndex = path[0] === 'rules' && typeof path[1] === 'number' ? path[1] : undefined;
    const rawId = ruleIndex === undefined ? undefined : this.doc.getIn(['rules', ruleIndex, 'id']);
    const shown = key === undefined ? path : [...path, key];
    return withHint({
      file: this.source.file,
      ...this.at(path, key),
      ...(typeof rawId === 'string' ? { ruleId: rawId } : {}),
      path: shown.map(String).join('.'),
      code,
      message,
      ...(hint === undefined ? {} : { hint }),
    });
  }
}

/** An issue about a whole file (it could not be read as a rule file at all). */
export function fileIssue(file: string, code: string, message: string): RuleIssue {
  return withHint({ file, line: 1, column: 1, path: '', code, message });
}

/** Fills in the hint every issue of a code shares, unless a more specific one was given. */
function withHint(issue: RuleIssue): RuleIssue {
  const hint = issue.hint ?? STATIC_HINTS[issue.code];
  return hint === undefined ? issue : { ...issue, hint };
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
 * Flattens zod issues into located issues with hints. A union (match expressions) reports every branch's failure;
 * the branch with the fewest problems is the one the author meant, so its issues are reported instead of a vague
 * "invalid input".
 */
export function zodIssues(
  loc: Located,
  issues: readonly z.core.$ZodIssue[],
  schema: SchemaFileName,
  data: unknown,
  prefix: readonly PropertyKey[] = [],
): RuleIssue[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => loc.issue(path, 'key.unknown', `unknown key "${key}"`, key, zodHint(issue, schema, data, path, key)));
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A branch that does not even know the keys written was not the one meant, however few its other problems.
      const cost = (b: readonly z.core.$ZodIssue[]) => (b.some((i) => i.code === 'unrecognized_keys' && i.path.length === 0) ? 1e6 : 0) + b.length;
      const branch = issue.errors.reduce((best, b) => (cost(b) < cost(best) ? b : best));
      if (branch.length > 0) return zodIssues(loc, branch, schema, data, path);
    }
    const code = zodIssueCode(issue);
    const message = code === 'key.missing' ? `missing key "${String(path[path.length - 1])}"` : issue.message;
    return [loc.issue(path, code, message, undefined, zodHint(issue, schema, data, path))];
  });
}

/** Parses a source and checks it against a schema: its data, or every problem located with a hint. */
export function parseSource<T extends z.ZodType>(
  source: RuleSource,
  schema: T,
  schemaFile: SchemaFileName,
): { ok: true; loc: Located; value: z.output<T> } | { ok: false; issues: RuleIssue[] } {
  const loc = new Located(source);
  const data = loc.data();
  if (!data.ok) return data;
  const raw = data.value ?? {};
  const result = schema.safeParse(raw, { reportInput: true });
  return result.success ? { ok: true, loc, value: result.data } : { ok: false, issues: zodIssues(loc, result.error.issues, schemaFile, raw) };
}
