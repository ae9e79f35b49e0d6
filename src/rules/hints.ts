import type { z } from 'zod';
import { DURATION_PATTERN, keysAt, schemaAt, type SchemaFileName } from './json-schema.js';
import { didYouMean } from './suggest.js';

/** Plain fix hints, one per stable issue code, for `fairuse rules validate` and the loader's errors. */

export const DURATION_HINT =
  'write a whole number and a unit (ms, s, m, h or d), e.g. 500ms, 30s, 5m, 24h, 7d; no spaces, decimals or combinations (90m, not 1h30m)';
const CIDR_HINT = 'write an IP address or a range such as 10.0.0.0/8 or 2001:db8::/32';

export const STATIC_HINTS: Readonly<Record<string, string>> = {
  'yaml.syntax': 'check the indentation (spaces, not tabs) and quoting here; quote values that contain ": " or " #"',
  'yaml.aliases': 'write the repeated content out, or use fewer anchors and aliases (at most 100 expansions)',
  'rule.duplicate-id': 'rule ids are unique across the whole directory: rename one of the two rules',
  'list.duplicate': 'lists are shared by every file of the directory: declare each list once (e.g. in lists.yaml)',
  'list.bad-cidr': CIDR_HINT,
  'match.bad-cidr': CIDR_HINT,
  'list.kind': 'in / not-in take a values list; in-cidr / not-in-cidr take a cidr list',
  'match.missing-value': 'add `value:` with what to compare the field with',
  'match.single-value': 'this operator compares with one value; use in / not-in to compare with several',
  'match.unexpected-value': 'exists / absent take no value: remove `value:`',
  'match.value-type': 'prefix / suffix / contains take a string; gt / gte / lt / lte take a number',
  'match.op-field': 'in-cidr / not-in-cidr apply to `ip`; gt / gte / lt / lte apply to `localHour`',
  'match.invalid': 'a match entry is `{ field, op, value }`, or `all: [...]`, `any: [...]`, `not: {...}`',
  'condition.invalid': 'a condition needs `kind:` velocity, concurrency, distinct, throughput or cadence, and that kind\'s keys',
  'condition.scope': 'concurrency is counted per account: use `groupBy: accountId` (or a velocity condition for other keys)',
  'condition.self-distinct': 'count a different field than the one the rule groups by',
  duration: DURATION_HINT,
  'file.not-regular': 'rule directories hold plain files only; move it out of the directory',
  'file.empty': 'a reload waits for content: write the file in one go (save to a temporary name, then rename)',
  'file.too-large': 'split it into several files (rule files are read whole)',
};

const describe = (v: unknown): string => (typeof v === 'string' ? `the string "${v}"` : Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'a mapping' : `${typeof v} ${String(v)}`);

function typeHint(issue: Extract<z.core.$ZodIssue, { code: 'invalid_type' }>, key: PropertyKey | undefined): string {
  const input = issue.input;
  if (input === undefined) return `add \`${String(key)}:\` (${issue.expected})`;
  if (issue.expected === 'number' && typeof input === 'string' && input.trim() !== '' && !Number.isNaN(Number(input))) return `write ${input.trim()} without quotes`;
  if (issue.expected === 'boolean' && (input === 'true' || input === 'false')) return `write ${input} without quotes`;
  if (issue.expected === 'array') return 'write a list: `[a, b]` or one `- item` per line';
  if (issue.expected === 'object') return 'write a mapping of `key: value` pairs';
  return `expected ${issue.expected}, got ${describe(input)}`;
}

/** A hint for a schema issue: the nearest valid key or value, what a duration looks like, how to fix a type. */
export function zodHint(issue: z.core.$ZodIssue, schema: SchemaFileName, data: unknown, path: readonly PropertyKey[], key?: string): string | undefined {
  const last = path[path.length - 1];
  switch (issue.code) {
    case 'unrecognized_keys':
      return key === undefined ? undefined : didYouMean(key, keysAt(schema, data, path), 'keys here');
    case 'invalid_value': {
      const values = issue.values.map(String);
      const what = last === 'field' || last === 'groupBy' ? 'fields' : 'values';
      return typeof issue.input === 'string' ? didYouMean(issue.input, values, what) : `one of: ${values.join(', ')}`;
    }
    case 'invalid_type':
      if (schemaAt(schema, data, path)?.pattern === DURATION_PATTERN) return DURATION_HINT;
      return typeHint(issue, last);
    case 'too_small':
      return issue.origin === 'array' ? `needs at least ${String(issue.minimum)} item(s)` : issue.origin === 'string' ? 'must not be empty' : `use ${String(issue.minimum)} or more`;
    case 'too_big':
      return issue.origin === 'array' || issue.origin === 'string' ? `at most ${String(issue.maximum)}` : `use ${String(issue.maximum)} or less`;
    case 'custom':
      return issue.message.startsWith('invalid duration') ? DURATION_HINT : undefined;
    default:
      return undefined;
  }
}
