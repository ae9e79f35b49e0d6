import { BEGINNING, iso } from '../time/instant.js';
import type { Strike } from '../contract/outputs.js';
import { readField } from '../rules/match.js';
import type { CompiledRule } from '../rules/ruleset.js';
import type { Condition, EventField } from '../rules/schema.js';
import type { ConditionEvidence } from '../contract/outputs.js';
import { evidenceOf, newConditionState, newVerdict, observe, retention, trackConcurrency, type ConditionState, type Observation, type Verdict } from './conditions.js';
import { deterministicId } from './ids.js';
import { NONE, append } from './window/compact.js';

/** Which rules a detector runs: per-account rules live with the account's partition, others where their key lives. */
export type DetectorScope = 'all' | 'account' | 'shared';

/** State of one key (an account, a device, an IP…) for the rules grouped by its field. */
interface KeyState {
  lastSeen: number;
  /** The key's latest matching eventIds, quoted as evidence: a ring, overwritten in place once full. */
  samples: readonly string[];
  sampleNext: number;
  /**
   * Condition states of every rule of the scope in one flat array (rule by rule, in the scope's slot order), each
   * created when its rule first matches the key: one array per key rather than one per rule.
   */
  states: Array<ConditionState | undefined>;
  /** Per rule of an account scope: until when it may not strike this account again. Created at the first strike. */
  cooldownUntil: number[] | undefined;
}

interface Scope {
  readonly field: EventField;
  readonly rules: readonly CompiledRule[];
  /** Per rule: the index of its first condition in a key's flat `states`. */
  readonly firstSlot: readonly number[];
  readonly slots: number;
  /** Concurrency conditions and their slots, tracked on every event of the account, matched or not. */
  readonly concurrency: ReadonlyArray<{ readonly slot: number; readonly condition: ConcurrencyCondition }>;
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

/**
 * Sample eventIds kept per account key. Device and IP keys keep none: each would hold its own old eventIds alive for
 * days (a third of a person's state); a farm strike names its key and trigger event, and strikes every account of
 * the farm with them.
 */
const SAMPLE_SIZE = 3;

type ConcurrencyCondition = Extract<Condition, { kind: 'concurrency' }>;

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
      ...slotsOf(scoped),
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
      if (state) trackAllConcurrency(scope, state, o);
      let sampled = false;
      for (let i = 0; i < scope.rules.length; i++) {
        const rule = scope.rules[i]!;
        if (!rule.matches(o.event, o.ts)) continue;
        if (!state) {
          state = newKeyState(scope, o.ts);
          scope.keys.set(key, state);
        }
        if (!sampled) {
          sampled = true;
          if (scope.field === 'accountId') addSample(state, o.event.eventId);
        }
        const conditions = rule.spec.conditions;
        const first = scope.firstSlot[i]!;
        const verdicts = scope.verdicts[i]!;
        let met = true;
        for (let c = 0; c < conditions.length; c++) {
          const condition = conditions[c]!;
          const cs = (state.states[first + c] ??= newConditionState(condition));
          // Every condition observes the event, even after one fails: each keeps its own window current.
          if (!observe(condition, cs, o, verdicts[c]!)) met = false;
        }
        const outcome = met ? this.fire(scope, i, key, state, o, emit) : undefined;
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

  private fire(scope: Scope, i: number, key: string, state: KeyState, o: Observation, emit: (strike: Strike) => void): { struck: string[]; inCooldown: string[] } {
    const rule = scope.rules[i]!;
    const verdicts = scope.verdicts[i]!;
    const perAccount = scope.field === 'accountId';
    // A key that keeps meeting its conditions during the cooldown strikes nobody: one comparison on the key's state.
    if (perAccount && (state.cooldownUntil?.[i] ?? BEGINNING) > o.ts) return { struck: [], inCooldown: [o.event.accountId] };
    const farm = verdicts.find((v) => v.accounts)?.accounts;
    const subjects = perAccount ? [o.event.accountId] : [...new Set([o.event.accountId, ...(farm ?? [])])];
    const struck: string[] = [];
    const inCooldown: string[] = [];
    const until = o.ts + rule.spec.cooldown;
    for (const accountId of subjects) {
      if (perAccount) {
        setCooldown(scope, state, i, until);
      } else {
        const ck = cooldownKey(rule, accountId);
        if ((this.cooldowns.get(ck) ?? BEGINNING) > o.ts) {
          inCooldown.push(accountId);
          continue;
        }
        this.cooldowns.set(ck, until);
      }
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
        reason: renderReason(rule.spec.strike.reason, { key, field: scope.field, accountId }, verdicts),
        tags: rule.spec.tags,
        key: { field: scope.field, value: key },
        evidence: {
          triggerEventId: o.event.eventId,
          conditions: verdicts.map(evidenceOf),
          sampleEventIds: samplesOf(state),
        },
      });
    }
    return { struck, inCooldown };
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
    const cooldowns: DetectorSnapshot['cooldowns'] = [...this.cooldowns];
    for (const scope of this.scopes) {
      for (const [key, state] of scope.keys) {
        const rules: Record<string, ConditionState[]> = {};
        scope.rules.forEach((rule, i) => {
          const first = scope.firstSlot[i]!;
          const states = state.states.slice(first, first + rule.spec.conditions.length);
          if (states[0]) rules[ruleKey(rule)] = states as ConditionState[];
          const until = state.cooldownUntil?.[i];
          if (until !== undefined && until !== BEGINNING) cooldowns.push([cooldownKey(rule, key), until]);
        });
        keys.push({ field: scope.field, key, lastSeen: state.lastSeen, samples: samplesOf(state), rules });
      }
    }
    return structuredClone({ keys, cooldowns });
  }

  /** Restores state; rules whose id and version are not in this detector start afresh. */
  restore(snapshot: DetectorSnapshot): void {
    const copy = structuredClone(snapshot);
    for (const scope of this.scopes) scope.keys.clear();
    this.cooldowns.clear();
    for (const entry of copy.keys) {
      const scope = this.scopes.find((s) => s.field === entry.field);
      if (!scope) continue;
      const states = new Array<ConditionState | undefined>(scope.slots);
      let any = false;
      scope.rules.forEach((rule, i) => {
        const saved = entry.rules[ruleKey(rule)];
        if (!saved) return;
        any = true;
        saved.forEach((cs, c) => (states[scope.firstSlot[i]! + c] = cs));
      });
      if (any) scope.keys.set(entry.key, { ...newKeyState(scope, entry.lastSeen, entry.samples), states });
    }
    const accountScope = this.scopes.find((s) => s.field === 'accountId');
    for (const [ck, until] of copy.cooldowns) {
      const [ruleId, accountId] = ck.split('\u0000') as [string, string];
      const i = accountScope?.rules.findIndex((r) => r.spec.id === ruleId) ?? -1;
      if (!accountScope || i < 0) {
        this.cooldowns.set(ck, until);
        continue;
      }
      let state = accountScope.keys.get(accountId);
      if (!state) {
        // Only the cooldown survives: the key lives as long as it can matter, from the strike that set it.
        state = newKeyState(accountScope, until - accountScope.rules[i]!.spec.cooldown);
        accountScope.keys.set(accountId, state);
      }
      setCooldown(accountScope, state, i, until);
    }
  }
}

function newKeyState(scope: Scope, lastSeen: number, samples: readonly string[] = NONE): KeyState {
  return { lastSeen, samples, sampleNext: 0, states: new Array(scope.slots), cooldownUntil: undefined };
}

/** Rule `i` of an account scope may not strike this account again before `until`. */
function setCooldown(scope: Scope, state: KeyState, i: number, until: number): void {
  state.cooldownUntil ??= new Array<number>(scope.rules.length).fill(BEGINNING);
  state.cooldownUntil[i] = until;
}

function slotsOf(rules: readonly CompiledRule[]): Pick<Scope, 'firstSlot' | 'slots' | 'concurrency'> {
  const firstSlot: number[] = [];
  const concurrency: Array<Scope['concurrency'][number]> = [];
  let slots = 0;
  for (const rule of rules) {
    firstSlot.push(slots);
    rule.spec.conditions.forEach((condition, k) => {
      if (condition.kind === 'concurrency') concurrency.push({ slot: slots + k, condition });
    });
    slots += rule.spec.conditions.length;
  }
  return { firstSlot, slots, concurrency };
}

function addSample(state: KeyState, eventId: string): void {
  if (state.samples.length < SAMPLE_SIZE) {
    state.samples = append(state.samples, eventId);
    return;
  }
  (state.samples as string[])[state.sampleNext] = eventId;
  state.sampleNext = (state.sampleNext + 1) % SAMPLE_SIZE;
}

/** The samples oldest first. */
function samplesOf(state: KeyState): string[] {
  const { samples, sampleNext } = state;
  return [...samples.slice(sampleNext), ...samples.slice(0, sampleNext)];
}

/** Concurrency is tracked on every event of the account, matched or not, so a drop below the threshold resets it. */
function trackAllConcurrency(scope: Scope, state: KeyState, o: Observation): void {
  for (const { slot, condition } of scope.concurrency) {
    const cs = state.states[slot];
    if (cs) trackConcurrency(condition, cs as { since: number | null }, o);
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
