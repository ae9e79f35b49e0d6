import { describe, expect, it } from 'vitest';
import type { Strike, Transition } from '../../src/contract/outputs.js';
import { Pipeline } from '../../src/engine/pipeline.js';
import type { RuleSet } from '../../src/rules/ruleset.js';
import { ev, rulesFrom, testPolicy } from '../support/events.js';

const pack = (mode: string, threshold = 3, comment = '') => `${comment}
rules:
  - id: burst
    description: d
    severity: high
    mode: ${mode}
    owner: o
    conditions: [{ kind: velocity, window: 1m, threshold: ${threshold} }]
    strike: { points: 10, reason: r }
    cooldown: 1m
`;

function run(rules: RuleSet) {
  const out = { strikes: [] as Strike[], shadow: [] as Strike[], transitions: [] as Transition[] };
  const p = new Pipeline(rules, testPolicy(), { strike: (s) => out.strikes.push(s), shadowStrike: (s) => out.shadow.push(s), transition: (t) => out.transitions.push(t), speed: () => {} });
  // Ten bursts, each well past the cooldown: 100 points, far beyond pauseAt (10) and suspendAt (30).
  for (let b = 0; b < 10; b++) for (let i = 0; i < 3; i++) p.ingest(ev(b * 600 + i));
  return { ...out, status: p.standings.status('acc-1'), stats: p.stats };
}

describe('rolling a rule out', () => {
  it('shadow strikes go to their own output, are marked shadow, and never escalate however many', () => {
    const r = run(rulesFrom(pack('shadow')));
    expect(r.shadow).toHaveLength(10);
    expect(r.shadow.every((s) => s.mode === 'shadow')).toBe(true);
    expect(r.strikes).toEqual([]);
    expect(r.transitions).toEqual([]);
    expect(r.status).toBe('active');
    expect(r.stats.shadowStrikesByRule).toEqual({ burst: 10 });
  });

  it('the same rule enforced escalates: paused, then suspended', () => {
    const r = run(rulesFrom(pack('enforce')));
    expect(r.transitions.map((t) => `${t.from}→${t.to}`)).toEqual(['active→paused', 'paused→suspended']);
    expect(r.status).toBe('suspended');
  });

  it('every strike carries the content hash of the rule that made it', () => {
    const rules = rulesFrom(pack('enforce'));
    const r = run(rules);
    expect(new Set(r.strikes.map((s) => s.ruleVersion))).toEqual(new Set([rules.rules[0]!.version]));
    expect(rules.rules[0]!.version).toMatch(/^[0-9a-f]{12}$/);
  });

  it('the version changes with the rule (mode, threshold), not with comments', () => {
    const v = (text: string) => rulesFrom(text).rules[0]!.version;
    const base = v(pack('enforce'));
    expect(v(pack('shadow'))).not.toBe(base);
    expect(v(pack('enforce', 4))).not.toBe(base);
    expect(v(pack('enforce', 3, '# yaml-language-server: $schema=./schema/rule-file.schema.json'))).toBe(base);
  });

  it('promoting shadow → enforce keeps the rule\'s windows (same window signature)', () => {
    const shadow = rulesFrom(pack('shadow')).rules[0]!;
    const enforced = rulesFrom(pack('enforce')).rules[0]!;
    expect(enforced.windowSignature).toBe(shadow.windowSignature);
    const strikes: Strike[] = [];
    const p = new Pipeline(rulesFrom(pack('shadow')), testPolicy(), { strike: (s) => strikes.push(s), shadowStrike: () => {}, transition: () => {}, speed: () => {} });
    p.ingest(ev(0));
    p.ingest(ev(1));
    p.detection.replaceRules(rulesFrom(pack('enforce')));
    p.ingest(ev(2)); // the third request of the minute: counted with the two seen in shadow mode
    expect(strikes.map((s) => [s.mode, s.ruleVersion])).toEqual([['enforce', enforced.version]]);
  });
});
