import { iso } from '../time/instant.js';
import { formatDuration } from '../time/duration.js';
import { describeCondition, describeState, type Explanation, type KeyExplanation, type RuleExplanation, type TraceState, type Verdict } from './explain.js';
import { safe } from './render.js';

const ORDER: Verdict[] = ['struck', 'met-for-others', 'below-threshold', 'no-match', 'off'];
const MAX_KEYS = 5;
const MAX_STRIKE_TIMES = 10;

const best = (r: RuleExplanation) => Math.max(0, ...r.keys.map((k) => k.closest.closeness));
function ordered(rules: readonly RuleExplanation[]): RuleExplanation[] {
  return [...rules].sort((a, b) => ORDER.indexOf(a.verdict) - ORDER.indexOf(b.verdict) || best(b) - best(a) || a.rule.spec.id.localeCompare(b.rule.spec.id));
}

function timeline(k: KeyExplanation, bucket: number): string[] {
  const rows = [...k.timeline.entries()].sort(([a], [b]) => a - b);
  return [
    `    over time (closest per ${formatDuration(bucket)}):`,
    ...rows.map(([slot, s]) => `      ${iso(slot * bucket)}  ${s.conditions.map(describeCondition).join(', ')}${s.met ? '  MET' : ''}`),
  ];
}

function keyLines(k: KeyExplanation, x: Explanation, r: RuleExplanation): string[] {
  const out = [`  ${k.field} ${k.value}: ${k.matched} matching event(s), ${iso(k.first)} … ${iso(k.last)}`];
  if (k.struck.length > 0) {
    const shown = k.struck.slice(0, MAX_STRIKE_TIMES).map(iso).join(', ');
    out.push(`    struck at ${shown}${k.struck.length > MAX_STRIKE_TIMES ? ` … (${k.struck.length} in all)` : ''}`);
  }
  if (k.spared > 0) out.push(`    met ${k.spared} more time(s) inside the cooldown (${formatDuration(r.rule.spec.cooldown)})`);
  if (k.metWithoutAccount > 0) out.push(`    met ${k.metWithoutAccount} time(s) for other accounts on this ${k.field}`);
  out.push(`    closest approach: ${describeState(k.closest)}`);
  if (x.at !== undefined) out.push(`    at ${iso(x.at)}: ${atLine(k.atState, r)}`);
  out.push(...timeline(k, x.bucket));
  return out;
}

function atLine(s: TraceState | undefined, r: RuleExplanation): string {
  if (!s) return 'no matching event yet';
  const cooldown = r.cooldownUntil !== undefined ? `; in cooldown until ${iso(r.cooldownUntil)}` : '';
  return `as of the last matching event, ${describeState(s)}${s.met ? ' (met)' : ''}${cooldown}`;
}

function ruleLines(r: RuleExplanation, x: Explanation): string[] {
  const { spec } = r.rule;
  const head = `${spec.id}  [${spec.mode}, ${spec.severity}, per ${spec.groupBy}, version ${r.rule.version}]`;
  const keys = [...r.keys].sort((a, b) => b.struck.length - a.struck.length || b.closest.closeness - a.closest.closeness);
  const shown = keys.slice(0, MAX_KEYS).flatMap((k) => keyLines(k, x, r));
  const more = keys.length > MAX_KEYS ? [`  … ${keys.length - MAX_KEYS} more ${spec.groupBy} key(s)`] : [];
  return [head, `  → ${r.why}`, ...shown, ...more, ''];
}

export function formatExplanation(x: Explanation): string {
  const keys = [...x.keys].filter(([, v]) => v.size > 0).map(([f, v]) => `${f} ${[...v].slice(0, MAX_KEYS).join(', ')}${v.size > MAX_KEYS ? ` (+${v.size - MAX_KEYS})` : ''}`);
  const status = x.transitions.length === 0 ? ['  status: active throughout (no transitions)'] : x.transitions.map((t) => `  status: ${t.from} → ${t.to} at ${t.at}: ${t.reason}`);
  const lines = [
    `account ${x.account}: ${x.events} event(s) from ${iso(x.first)} to ${iso(x.last)}`,
    `  keys: ${keys.join(' · ') || '(none)'}`,
    ...(x.at !== undefined ? [`  state at ${iso(x.at)} shown per key (--at)`] : []),
    ...status,
    '',
    ...ordered(x.rules).flatMap((r) => ruleLines(r, x)),
  ];
  return safe(lines.join('\n').trimEnd());
}

const stateJson = (s: TraceState | undefined) => s && { at: iso(s.ts), met: s.met, closeness: Math.round(s.closeness * 1000) / 1000, conditions: s.conditions };

export function explanationJson(x: Explanation): unknown {
  return {
    account: x.account,
    events: x.events,
    first: iso(x.first),
    last: iso(x.last),
    at: x.at === undefined ? undefined : iso(x.at),
    keys: Object.fromEntries([...x.keys].map(([f, v]) => [f, [...v]])),
    transitions: x.transitions,
    rules: ordered(x.rules).map((r) => ({
      rule: r.rule.spec.id,
      version: r.rule.version,
      mode: r.rule.spec.mode,
      verdict: r.verdict,
      why: r.why,
      cooldownUntil: r.cooldownUntil === undefined ? undefined : iso(r.cooldownUntil),
      keys: r.keys.map((k) => ({
        field: k.field,
        value: k.value,
        matched: k.matched,
        struck: k.struck.map(iso),
        spared: k.spared,
        metWithoutAccount: k.metWithoutAccount,
        closest: stateJson(k.closest),
        atState: stateJson(k.atState),
        timeline: [...k.timeline.entries()].sort(([a], [b]) => a - b).map(([slot, s]) => ({ ...stateJson(s), from: iso(slot * x.bucket) })),
      })),
    })),
  };
}
