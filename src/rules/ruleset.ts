import { createHash } from 'node:crypto';
import type { Predicate } from './match.js';
import type { NamedList, RuleSpec } from './schema.js';

/** A validated rule, ready for the engine. */
export interface CompiledRule {
  readonly spec: RuleSpec;
  /** Content hash of the rule and the lists it reads: stamped on every strike it makes. */
  readonly version: string;
  /** Hash of what shapes the rule's windows (grouping, match, conditions): unchanged means its state carries over. */
  readonly windowSignature: string;
  readonly file: string;
  readonly matches: Predicate;
}

export interface RuleSet {
  readonly rules: readonly CompiledRule[];
  readonly lists: ReadonlyMap<string, NamedList>;
  readonly files: readonly string[];
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function contentHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical(value))).digest('hex').slice(0, 12);
}
