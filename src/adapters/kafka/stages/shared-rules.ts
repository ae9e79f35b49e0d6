import type { EventField } from '../../../rules/schema.js';
import type { RuleSet } from '../../../rules/ruleset.js';

/** Fields that live rules group by other than the account: detect repartitions events by each of them. */
export function sharedFields(rules: RuleSet): EventField[] {
  return [...new Set(rules.rules.filter((r) => r.spec.mode !== 'off' && r.spec.groupBy !== 'accountId').map((r) => r.spec.groupBy))];
}

/**
 * The rules grouped by one field. A fanout partition gets each event once per field, so it keeps one engine per field
 * fed only with that field's rules: one engine for all would count an event once per field and dedupe the second copy.
 */
export function rulesGroupedBy(rules: RuleSet, field: EventField): RuleSet {
  return { ...rules, rules: rules.rules.filter((r) => r.spec.groupBy === field) };
}

/** Why a reloaded rule set cannot replace a running one: the repartitioned fields must stay the same. */
export function fieldsChanged(before: readonly EventField[], rules: RuleSet): string | undefined {
  const after = sharedFields(rules);
  const same = after.length === before.length && after.every((f) => before.includes(f));
  return same ? undefined : `shared grouping fields change from [${before.join(', ')}] to [${after.join(', ')}]: restart the pipeline to repartition`;
}
