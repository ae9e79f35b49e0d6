import { BEGINNING, iso } from '../time/instant.js';
import type { Strike } from '../contract/outputs.js';
import { readField } from '../rules/match.js';
import type { CompiledRule } from '../rules/ruleset.js';
import type { Condition, EventField } from '../rules/schema.js';
import type { ConditionEvidence } from '../contract/outputs.js';
import { evidenceOf, newConditionState, newVerdict, observe, retention, trackConcurrency, type ConditionState, type Observation, type Verdict } from './conditions.js';
import { deterministicId } from './ids.js';
import { append } from './window/compact.js';

/** Which rules a detector runs: per-account rules live with the account's partition, others where their key lives. */
export type DetectorScope = 'all' | 'account' | 'shared';

/** State of one key (an account, a device, an IP…) for the rules grouped by its field. */
interface KeyState {
  lastSeen: number;
  /** The key's latest matching eventIds, quoted as evidence. */
  samples: string[];
  /** Condition states per rule of the scope, created when the rule first matches the key. */
  rules: Array<ConditionState[] | undefined>;
}

interface Scope {
  readonly field: EventField;
  readonly rules: readonly CompiledRule[];
  /** Per rule: whether it has a concurrency condition, tracked on every event of the account. */
  readonly concurrent: readonly boolean[];
  /** Per rule, per condition: the verdict slot reused for every event. */
  readonly verdicts: readonly Verdict[][];
  readonly keys: Map<string, KeyState>;
  /** Idle time after which a key's state cannot affect any rule of the scope. */
  readonly retention: number;
}

export interface DetectorSnapshot {
  keys: Array<{ field: string; key: string; lastSeen: number; samples: string[]; rules: Record<string, ConditionState[]> }>;
  cooldowns: Array<[string, number]>;
}

const SAMPLE_SIZE = 3;

/** Rule state is kept under the rule's window signature, so a change that leaves its windows alone keeps them. */
function ruleKey(rule: CompiledRule): string {
  return `${rule.spec.id}@${rule.windowSignature}`;
}

function cooldownKey(rule: CompiledRule, accountId: string): string {
  return `${rule.spec.id}\u0000${accountId}`;
}

/** What one rule made of one matching event: for `rules explain` and backtests, never needed on the hot path. */
export interface RuleTrace {
  readonly rule: CompiledRule;
  readonly key: { field: EventField; value: string };
  readonly eventId: string;
  readonly ts: number;
  readonly conditions: readonly ConditionEvidence[];
  readonly met: boolean;
  /** Accounts struck by this event, and those the rule's cooldown spared. */
  readonly struck: readonly string[];
  readonly inCooldown: readonly string[];
}

/**
 * Runs the rules' conditions over keyed windows and emits strikes. Pure: the only clock is the events' time.
 */
export class Detector {
  private readonly scopes: Scope[];
  /** Until when each (rule, account) may not strike again: the rule's cooldown. */
  private readonly cooldowns = new Map<string, number>();
  /** Set by tools that explain decisions; undefined in production so the hot path pays one check. */
  tracer: ((trace: RuleTrace) => void) | undefined;

  constructor(rules: readonly CompiledRule[], inflightTimeout: number, scope: DetectorScope = 'all') {
    const live = rules.filter((r) => r.spec.mode !== 'off');
    const byField = new Map<EventField, CompiledRule[]>();
    for (const rule of live) {
      const perAccount = rule.spec.groupBy === 'accountId';
      if ((scope === 'account' && !perAccount) || (scope === 'shared' && perAccount)) continue;
      byField.set(rule.spec.groupBy, [...(byField.get(rule.spec.groupBy) ?? []), rule]);
    }
    this.scopes = [...byField].map(([field, scoped]) => ({
      field,
      rules: scoped,
      concurrent: scoped.map((r) => r.spec.conditions.some((c) => c.kind === 'concurrency')),
      verdicts: scoped.map((r) => r.spec.conditions.map(newVerdict)),
      keys: new Map(),
      retention: Math.max(...scoped.flatMap((r) => [r.spec.cooldown, ...r.spec.conditions.map((c) => retention(c, inflightTimeout))])),
    }));
  }

  /** Retention of the scope that forgets soonest: how often sweeping idle keys is worth it. */
  get shortestRetention(): number {
    return Math.min(...this.scopes.map((s) => s.retention));
  }

  /** Number of keys holding state, per grouping field. */
  get size(): Record<string, number> {
    return Object.fromEntries(this.scopes.map((s) => [s.field, s.keys.size]));
  }

  observe(o: Observation, emit: (strike: Strike) => void): void {
    for (const scope of this.scopes) {
      const value = readField(o.event, o.ts, scope.field);
      // An empty device id is no device: grouping on it would make one giant "farm" of every such account.
      if (value === undefined || value === '') continue;
      const key = String(value);
      let state = scope.keys.get(key);
      let sampled = false;
      for (let i = 0; i < scope.rules.length; i++) {
        const rule = scope.rules[i]!;
        const conditions = rule.spec.conditions;
        const existing = state?.rules[i];
        if (existing && scope.concurrent[i]) trackAllConcurrency(conditions, existing, o);
        if (!rule.matches(o.event, o.ts)) continue;
        if (!state) {
          state = { lastSeen: o.ts, samples: [], rules: [] };
          scope.keys.set(key, state);
        }
        if (!sampled) {
          sampled = true;
          state.samples = state.samples.length < SAMPLE_SIZE ? append(state.samples, o.event.eventId) : [...state.samples.slice(1), o.event.eventId];
        }
        if (!existing) state.rules = withRuleState(state.rules, i, conditions.map(newConditionState));
        const condStates = state.rules[i]!;
        const verdicts = scope.verdicts[i]!;
        let met = true;
        for (let c = 0; c < conditions.length; c++) {
          // Every condition observes the event, even after one fails: each keeps its own window current.
          if (!observe(conditions[c]!, condStates[c]!, o, verdicts[c]!)) met = false;
        }
        const outcome = met ? this.fire(rule, scope.field, key, verdicts, state.samples, o, emit) : undefined;
        this.tracer?.({
          rule,
          key: { field: scope.field, value: key },
          eventId: o.event.eventId,
          ts: o.ts,
          conditions: verdicts.map(evidenceOf),
          met,
          struck: outcome?.struck ?? [],
          inCooldown: outcome?.inCooldown ?? [],
        });
      }
      if (state && o.ts > state.lastSeen) state.lastSeen = o.ts;
    }
  }

  private fire(
    rule: CompiledRule,
    field: EventField,
    key: string,
    verdicts: Verdict[],
    samples: readonly string[],
    o: Observation,
    emit: (strike: Strike) => void,
  ): { struck: string[]; inCooldown: string[] } {
    // Fast path: a key that keeps meeting its conditions during the cooldown strikes nobody, so check that first.
    if (field === 'accountId' && this.inCooldown(rule, o.event.accountId, o.ts)) {
      return { struck: [], inCooldown: [o.event.accountId] };
    }
    const farm = verdicts.find((v) => v.accounts)?.accounts;
    const subjects = field === 'accountId' ? [o.event.accountId] : [...new Set([o.event.accountId, ...(farm ?? [])])];
    const struck: string[] = [];
    const inCooldown: string[] = [];
    for (const accountId of subjects) {
      if (this.inCooldown(rule, accountId, o.ts)) {
        inCooldown.push(accountId);
        continue;
      }
      this.cooldowns.set(cooldownKey(rule, accountId), o.ts + rule.spec.cooldown);
      struck.push(accountId);
      emit({
        strikeId: deterministicId('stk', rule.spec.id, rule.version, accountId, o.event.eventId),
        ruleId: rule.spec.id,
        ruleVersion: rule.version,
        mode: rule.spec.mode === 'shadow' ? 'shadow' : 'enforce',
        severity: rule.spec.severity,
        points: rule.spec.strike.points,
        accountId,
        at: iso(o.ts),
        reason: renderReason(rule.spec.strike.reason, { key, field, accountId }, verdicts),
        tags: rule.spec.tags,
        key: { field, value: key },
        evidence: {
          triggerEventId: o.event.eventId,
          conditions: verdicts.map(evidenceOf),
          sampleEventIds: [...samples],
        },
      });
    }
    return { struck, inCooldown };
  }

  private inCooldown(rule: CompiledRule, accountId: string, ts: number): boolean {
    return (this.cooldowns.get(cooldownKey(rule, accountId)) ?? BEGINNING) > ts;
  }

  /** Drops keys idle past their scope's retention and cooldowns that have run out, as of the watermark. */
  evictIdle(watermark: number): void {
    for (const scope of this.scopes) {
      for (const [key, state] of scope.keys) {
        if (state.lastSeen <= watermark - scope.retention) {
          scope.keys.delete(key);
        }
      }
    }
    for (const [key, until] of this.cooldowns) if (until <= watermark) this.cooldowns.delete(key);
  }

  snapshot(): DetectorSnapshot {
    const keys: DetectorSnapshot['keys'] = [];
    for (const scope of this.scopes) {
      for (const [key, state] of scope.keys) {
        const rules: Record<string, ConditionState[]> = {};
        scope.rules.forEach((rule, i) => {
          const s = state.rules[i];
          if (s) rules[ruleKey(rule)] = s;
        });
        keys.push({ field: scope.field, key, lastSeen: state.lastSeen, samples: state.samples, rules });
      }
    }
    return structuredClone({ keys, cooldowns: [...this.cooldowns] });
  }

  /** Restores state; rules whose id and version are not in this detector start afresh. */
  restore(snapshot: DetectorSnapshot): void {
    const copy = structuredClone(snapshot);
    for (const scope of this.scopes) scope.keys.clear();
    this.cooldowns.clear();
    for (const entry of copy.keys) {
      const scope = this.scopes.find((s) => s.field === entry.field);
      if (!scope) continue;
      const rules = scope.rules.map((rule) => entry.rules[ruleKey(rule)]);
      if (rules.some(Boolean)) scope.keys.set(entry.key, { lastSeen: entry.lastSeen, samples: entry.samples, rules });
    }
    for (const [key, until] of copy.cooldowns) this.cooldowns.set(key, until);
  }
}

/** Sets one rule's state in an exact-size array (see compact.ts for why not to grow arrays in place). */
function withRuleState(rules: KeyState['rules'], i: number, states: ConditionState[]): KeyState['rules'] {
  const out: KeyState['rules'] = new Array(Math.max(rules.length, i + 1));
  for (let j = 0; j < out.length; j++) out[j] = j === i ? states : rules[j];
  return out;
}

function trackAllConcurrency(conditions: readonly Condition[], states: ConditionState[], o: Observation): void {
  for (let c = 0; c < conditions.length; c++) {
    const cond = conditions[c]!;
    if (cond.kind === 'concurrency') trackConcurrency(cond, states[c] as { since: number | null }, o);
  }
}

/** Fills `{{name}}` placeholders: key, field, accountId, and `<kind>.observed` / `<kind>.threshold` per condition. */
function renderReason(template: string, vars: Record<string, string>, verdicts: readonly Verdict[]): string {
  const values: Record<string, string> = { ...vars };
  for (const v of verdicts) {
    values[`${v.kind}.observed`] = String(v.observed);
    values[`${v.kind}.threshold`] = String(v.threshold);
  }
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);
}
