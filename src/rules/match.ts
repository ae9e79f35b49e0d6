import type { GenerationEvent } from '../contract/event.js';
import { localHour } from '../time/zone.js';
import { CidrSet, parseCidr } from './cidr.js';
import { LIST_REF, type EventField, type MatchExpr, type MatchLeaf, type NamedList } from './schema.js';

type Value = string | number | boolean | undefined;

/** Named lists a rule may reference, and where the compiler records the ones it did reference. */
interface Lists {
  readonly declared: ReadonlyMap<string, NamedList>;
  readonly used: Map<string, NamedList>;
}
export type Predicate = (event: GenerationEvent, ts: number) => boolean;

/** Reads a field of an event; `localHour` is derived on demand because it costs an Intl lookup. */
export function readField(event: GenerationEvent, ts: number, field: EventField): Value {
  if (field === 'localHour') return localHour(event.timezone ?? 'UTC', ts);
  return event[field];
}

/** A problem found while compiling a match expression, with the path inside the rule's `match`. */
export class MatchError extends Error {
  constructor(
    message: string,
    readonly path: (string | number)[],
    readonly code: string,
  ) {
    super(message);
  }
}

const NUMERIC_FIELDS: ReadonlySet<EventField> = new Set(['localHour']);
const IP_FIELDS: ReadonlySet<EventField> = new Set(['ip']);

function resolveItems(leaf: MatchLeaf, lists: Lists, path: (string | number)[], kind: NamedList['kind']): Array<string | number | boolean> {
  const raw = leaf.value;
  if (raw === undefined) throw new MatchError(`operator "${leaf.op}" needs a value`, [...path, 'value'], 'match.missing-value');
  const items = Array.isArray(raw) ? raw : [raw];
  const out: Array<string | number | boolean> = [];
  for (const item of items) {
    const ref = typeof item === 'string' ? LIST_REF.exec(item) : null;
    if (!ref) {
      out.push(item);
      continue;
    }
    const list = lists.declared.get(ref[1]!);
    if (!list) throw new MatchError(`unknown list "${item}"`, [...path, 'value'], 'list.unknown');
    if (list.kind !== kind) throw new MatchError(`list "${item}" is a ${list.kind} list; operator "${leaf.op}" needs a ${kind} list`, [...path, 'value'], 'list.kind');
    lists.used.set(ref[1]!, list);
    out.push(...list.items);
  }
  return out;
}

function cidrSet(items: Array<string | number | boolean>, path: (string | number)[]): CidrSet {
  return new CidrSet(
    items.map((item) => {
      const range = typeof item === 'string' ? parseCidr(item) : undefined;
      if (!range) throw new MatchError(`"${String(item)}" is not an IP address or CIDR range`, [...path, 'value'], 'match.bad-cidr');
      return range;
    }),
  );
}

function single(leaf: MatchLeaf, path: (string | number)[]): string | number | boolean {
  if (leaf.value === undefined || Array.isArray(leaf.value)) {
    throw new MatchError(`operator "${leaf.op}" takes a single value`, [...path, 'value'], 'match.single-value');
  }
  return leaf.value;
}

function compileLeaf(leaf: MatchLeaf, lists: Lists, path: (string | number)[]): Predicate {
  const { field, op } = leaf;
  const read = (e: GenerationEvent, ts: number) => readField(e, ts, field);
  switch (op) {
    case 'exists':
    case 'absent': {
      if (leaf.value !== undefined) throw new MatchError(`operator "${op}" takes no value`, [...path, 'value'], 'match.unexpected-value');
      return op === 'exists' ? (e, ts) => read(e, ts) !== undefined : (e, ts) => read(e, ts) === undefined;
    }
    case 'equals':
    case 'not-equals': {
      const v = single(leaf, path);
      return op === 'equals' ? (e, ts) => read(e, ts) === v : (e, ts) => read(e, ts) !== v;
    }
    case 'in':
    case 'not-in': {
      const set = new Set(resolveItems(leaf, lists, path, 'values'));
      return op === 'in' ? (e, ts) => set.has(read(e, ts) as never) : (e, ts) => !set.has(read(e, ts) as never);
    }
    case 'in-cidr':
    case 'not-in-cidr': {
      if (!IP_FIELDS.has(field)) throw new MatchError(`operator "${op}" applies to IP fields only, not "${field}"`, [...path, 'op'], 'match.op-field');
      const set = cidrSet(resolveItems(leaf, lists, path, 'cidr'), path);
      return op === 'in-cidr' ? (e, ts) => set.has(String(read(e, ts))) : (e, ts) => !set.has(String(read(e, ts)));
    }
    case 'prefix':
    case 'suffix':
    case 'contains': {
      const v = single(leaf, path);
      if (typeof v !== 'string') throw new MatchError(`operator "${op}" needs a string value`, [...path, 'value'], 'match.value-type');
      const test =
        op === 'prefix' ? (s: string) => s.startsWith(v) : op === 'suffix' ? (s: string) => s.endsWith(v) : (s: string) => s.includes(v);
      return (e, ts) => {
        const x = read(e, ts);
        return typeof x === 'string' && test(x);
      };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (!NUMERIC_FIELDS.has(field)) throw new MatchError(`operator "${op}" compares numbers; "${field}" is not numeric (numeric fields: ${[...NUMERIC_FIELDS].join(', ')})`, [...path, 'field'], 'match.op-field');
      const v = single(leaf, path);
      if (typeof v !== 'number') throw new MatchError(`operator "${op}" needs a number`, [...path, 'value'], 'match.value-type');
      const cmp =
        op === 'gt' ? (x: number) => x > v : op === 'gte' ? (x: number) => x >= v : op === 'lt' ? (x: number) => x < v : (x: number) => x <= v;
      return (e, ts) => cmp(read(e, ts) as number);
    }
  }
}

function compileExpr(expr: MatchExpr, lists: Lists, path: (string | number)[]): Predicate {
  if ('all' in expr) return allOf(expr.all.map((x, i) => compileExpr(x, lists, [...path, 'all', i])));
  if ('any' in expr) {
    const parts = expr.any.map((x, i) => compileExpr(x, lists, [...path, 'any', i]));
    return (e, ts) => parts.some((p) => p(e, ts));
  }
  if ('not' in expr) {
    const inner = compileExpr(expr.not, lists, [...path, 'not']);
    return (e, ts) => !inner(e, ts);
  }
  return compileLeaf(expr, lists, path);
}

function allOf(parts: Predicate[]): Predicate {
  if (parts.length === 1) return parts[0]!;
  return (e, ts) => {
    for (const p of parts) if (!p(e, ts)) return false;
    return true;
  };
}

/** Compiles a rule's `match` list (all must hold) into a predicate. Rule text is data: nothing is evaluated as code. */
export function compileMatch(
  match: readonly MatchExpr[],
  declared: ReadonlyMap<string, NamedList>,
  used: Map<string, NamedList> = new Map(),
): Predicate {
  if (match.length === 0) return () => true;
  return allOf(match.map((x, i) => compileExpr(x, { declared, used }, ['match', i])));
}
