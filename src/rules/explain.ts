import type { ConditionEvidence, Transition } from '../contract/outputs.js';
import type { RuleTrace } from '../engine/detector.js';
import { Pipeline } from '../engine/pipeline.js';
import { bucketWidth } from '../backtest/buckets.js';
import { readEvents } from '../adapters/file/events.js';
import { formatDuration } from '../time/duration.js';
import { readField } from './match.js';
import type { Pack } from './pack.js';
import type { CompiledRule } from './ruleset.js';
import type { EventField } from './schema.js';

export interface ConditionValue {
  readonly kind: ConditionEvidence['kind'];
  readonly observed: number;
  readonly threshold: number;
  readonly comparison: ConditionEvidence['comparison'];
}

export interface TraceState {
  readonly ts: number;
  readonly conditions: readonly ConditionValue[];
  readonly met: boolean;
  /** 0…1: how far the weakest condition got towards its threshold (1: all met). */
  readonly closeness: number;
}

export interface KeyExplanation {
  readonly field: EventField;
  readonly value: string;
  matched: number;
  first: number;
  last: number;
  closest: TraceState;
  /** The last evaluation at or before `--at`. */
  atState: TraceState | undefined;
  struck: number[];
  /** Times the rule was met but the cooldown spared the account. */
  spared: number;
  /** Times the rule was met on this key without the account among those struck or spared. */
  metWithoutAccount: number;
  /** Best state per time bucket, oldest first. */
  readonly timeline: Map<number, TraceState>;
}

export type Verdict = 'struck' | 'met-for-others' | 'below-threshold' | 'no-match' | 'off';

export interface RuleExplanation {
  readonly rule: CompiledRule;
  readonly verdict: Verdict;
  readonly why: string;
  readonly keys: readonly KeyExplanation[];
  /** At `--at`: until when the rule's cooldown spares the account, if it does. */
  readonly cooldownUntil: number | undefined;
}

export interface Explanation {
  readonly account: string;
  readonly events: number;
  readonly first: number;
  readonly last: number;
  readonly at: number | undefined;
  /** The account's values of every field some rule groups by. */
  readonly keys: ReadonlyMap<EventField, ReadonlySet<string>>;
  readonly bucket: number;
  readonly rules: readonly RuleExplanation[];
  readonly transitions: readonly Transition[];
}

/** Rows of a key's timeline: enough to see a trend, few enough to read. */
const TIMELINE_ROWS = 24;

export class UnknownAccountError extends Error {
  override name = 'UnknownAccountError';
}

function closeness(c: ConditionValue): number {
  if (c.comparison === '>=') return c.threshold <= 0 ? 1 : Math.min(1, Math.max(0, c.observed) / c.threshold);
  if (c.observed < 0) return 0; // not enough samples yet
  return c.observed <= c.threshold ? 1 : c.threshold / c.observed;
}

function stateOf(t: RuleTrace): TraceState {
  const conditions = t.conditions.map(({ kind, observed, threshold, comparison }) => ({ kind, observed, threshold, comparison }));
  return { ts: t.ts, conditions, met: t.met, closeness: Math.min(...conditions.map(closeness)) };
}

/** Pass 1: the account's events and keys; the second pass then only keeps traces of those keys. */
async function accountKeys(input: string, account: string, fields: readonly EventField[]) {
  const keys = new Map<EventField, Set<string>>(fields.map((f) => [f, new Set<string>()]));
  let events = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  // Shared keys (a device, an IP) have history beyond the account's own, so timelines span the whole input.
  let inputFirst = Number.POSITIVE_INFINITY;
  let inputLast = Number.NEGATIVE_INFINITY;
  for await (const batch of readEvents(input)) {
    for (const line of batch) {
      if (!line.ok) continue;
      inputFirst = Math.min(inputFirst, line.value.ts);
      inputLast = Math.max(inputLast, line.value.ts);
      if (line.value.event.accountId !== account) continue;
      const { event, ts } = line.value;
      events++;
      first = Math.min(first, ts);
      last = Math.max(last, ts);
      for (const [field, values] of keys) {
        const v = readField(event, ts, field);
        if (v !== undefined && v !== '') values.add(String(v));
      }
    }
  }
  return { keys, events, first, last, span: inputLast - inputFirst };
}

/** Runs the input with the tracer on and explains, rule by rule, why the account was or was not struck. */
export async function explainAccount(input: string, account: string, pack: Pack, at?: number): Promise<Explanation> {
  const fields = [...new Set(pack.rules.rules.map((r) => r.spec.groupBy))];
  const { keys, events, first, last, span } = await accountKeys(input, account, fields);
  if (events === 0) throw new UnknownAccountError(`account "${account}" has no valid events in ${input}`);
  const bucket = bucketWidth(span, TIMELINE_ROWS);

  /** Per rule id, per `field value` key. */
  const summaries = new Map<string, Map<string, KeyExplanation>>();
  const transitions: Transition[] = [];
  const pipeline = new Pipeline(pack.rules, pack.policy, {
    strike: () => {},
    shadowStrike: () => {},
    speed: () => {},
    transition: (t) => t.accountId === account && transitions.push(t),
  });
  pipeline.detection.tracer = (t) => {
    const ours = t.key.field === 'accountId' ? t.key.value === account : keys.get(t.key.field)?.has(t.key.value);
    if (!ours) return;
    let perRule = summaries.get(t.rule.spec.id);
    if (!perRule) summaries.set(t.rule.spec.id, (perRule = new Map()));
    const id = `${t.key.field}\u0000${t.key.value}`;
    const state = stateOf(t);
    let k = perRule.get(id);
    if (!k) {
      k = { field: t.key.field, value: t.key.value, matched: 0, first: t.ts, last: t.ts, closest: state, atState: undefined, struck: [], spared: 0, metWithoutAccount: 0, timeline: new Map() };
      perRule.set(id, k);
    }
    k.matched++;
    k.first = Math.min(k.first, t.ts);
    k.last = Math.max(k.last, t.ts);
    if (state.closeness > k.closest.closeness) k.closest = state;
    if (at !== undefined && t.ts <= at && (!k.atState || t.ts >= k.atState.ts)) k.atState = state;
    if (t.struck.includes(account)) k.struck.push(t.ts);
    else if (t.inCooldown.includes(account)) k.spared++;
    else if (t.met) k.metWithoutAccount++;
    const slot = Math.floor(t.ts / bucket);
    const best = k.timeline.get(slot);
    if (!best || state.closeness > best.closeness) k.timeline.set(slot, state);
  };
  for await (const batch of readEvents(input)) for (const line of batch) if (line.ok) pipeline.ingest(line.value);

  const rules = pack.rules.rules.map((rule) => judge(rule, [...(summaries.get(rule.spec.id)?.values() ?? [])], keys, at));
  return { account, events, first, last, at, keys, bucket, rules, transitions };
}

function judge(rule: CompiledRule, keys: KeyExplanation[], accountKeys: ReadonlyMap<EventField, ReadonlySet<string>>, at: number | undefined): RuleExplanation {
  const strikes = keys.flatMap((k) => k.struck).sort((a, b) => a - b);
  const lastStrike = at === undefined ? undefined : strikes.filter((s) => s <= at).pop();
  const cooldownUntil = lastStrike !== undefined && lastStrike + rule.spec.cooldown > at! ? lastStrike + rule.spec.cooldown : undefined;
  const base = { rule, keys, cooldownUntil };
  const { groupBy, mode } = rule.spec;
  if (mode === 'off') return { ...base, verdict: 'off', why: 'the rule is off (mode: off): it does not run' };
  if (strikes.length > 0) {
    const spared = keys.reduce((n, k) => n + k.spared, 0);
    const shadow = mode === 'shadow' ? ' in shadow mode (never escalates)' : '';
    return { ...base, verdict: 'struck', why: `struck ${strikes.length}×${shadow}${spared > 0 ? `; met ${spared} more time(s) while the ${formatDuration(rule.spec.cooldown)} cooldown spared the account` : ''}` };
  }
  if (keys.some((k) => k.metWithoutAccount > 0)) {
    return { ...base, verdict: 'met-for-others', why: `met on a shared ${groupBy} while the account was not among the accounts counted in the window` };
  }
  if (keys.length > 0) {
    const best = keys.reduce((a, b) => (b.closest.closeness > a.closest.closeness ? b : a));
    return { ...base, verdict: 'below-threshold', why: `below threshold: best ${describeState(best.closest)} on ${best.field} ${best.value}` };
  }
  const own = accountKeys.get(groupBy);
  if (!own || own.size === 0) return { ...base, verdict: 'no-match', why: `no match: the account's events have no ${groupBy}, which the rule counts per` };
  return { ...base, verdict: 'no-match', why: `no match: no event on the account's ${groupBy} key(s) passed the rule's match` };
}

export function describeCondition(c: ConditionValue): string {
  if (c.kind === 'cadence' && c.observed < 0) return `cadence: not enough gaps yet (needs ≤ ${c.threshold})`;
  const met = closeness(c) >= 1;
  // Written as a true statement about the value: "velocity 4 < 30", "cadence 0.01 ≤ 0.15 ✓".
  const sign = c.comparison === '>=' ? (met ? '≥' : '<') : met ? '≤' : '>';
  return `${c.kind} ${c.observed} ${sign} ${c.threshold}${met ? ' ✓' : ''}`;
}

export function describeState(s: TraceState): string {
  return `${s.conditions.map(describeCondition).join(', ')} at ${new Date(s.ts).toISOString()}`;
}
