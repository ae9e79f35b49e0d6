import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainAccount, UnknownAccountError, type Explanation, type RuleExplanation } from '../../src/rules/explain.js';
import { explanationJson, formatExplanation } from '../../src/rules/explain-format.js';
import type { Pack } from '../../src/rules/pack.js';
import { ev, rulesFrom, T0, testPolicy } from '../support/events.js';

const rule = (id: string, body: string, mode = 'enforce') => `
  - id: ${id}
    description: d
    severity: low
    mode: ${mode}
    owner: o
${body}
    strike: { points: 1, reason: r }`;

const RULES = `rules:${rule('burst', '    conditions: [{ kind: velocity, window: 1m, threshold: 3 }]\n    cooldown: 10m')}${rule(
  'farm',
  '    groupBy: deviceId\n    conditions: [{ kind: distinct, field: accountId, window: 1h, threshold: 2 }]\n    cooldown: 1d',
)}${rule('lots', '    conditions: [{ kind: velocity, window: 1m, threshold: 100 }]\n    cooldown: 1h')}${rule(
  'video-only',
  '    match: [{ field: tool, op: equals, value: video }]\n    conditions: [{ kind: velocity, window: 1m, threshold: 3 }]\n    cooldown: 1h',
)}${rule('by-agent', '    groupBy: userAgent\n    conditions: [{ kind: velocity, window: 1m, threshold: 3 }]\n    cooldown: 1h')}${rule(
  'disabled',
  '    conditions: [{ kind: velocity, window: 1m, threshold: 1 }]\n    cooldown: 1h',
  'off',
)}
`;

async function explain(account = 'acc-1', at?: number): Promise<Explanation> {
  const lines = [
    ...[0, 10, 20, 30].map((s) => ev(s, { accountId: 'acc-1', deviceId: 'd-1' })),
    ev(40, { accountId: 'acc-2', deviceId: 'd-1' }),
    ev(300, { accountId: 'acc-1', deviceId: 'd-1' }),
    ev(301, { accountId: 'acc-3', deviceId: 'd-3' }),
  ].map((e) => JSON.stringify(e.event));
  const dir = await mkdtemp(join(tmpdir(), 'fairuse-explain-'));
  const input = join(dir, 'events.ndjson');
  await writeFile(input, [...lines, 'not json', ''].join('\n'));
  const pack: Pack = { dir, rules: rulesFrom(RULES), policy: testPolicy(), policyFile: 'test' };
  return explainAccount(input, account, pack, at);
}
const ruleOf = (x: Explanation, id: string): RuleExplanation => x.rules.find((r) => r.rule.spec.id === id)!;

describe('rules explain', () => {
  it('names the account, its keys and its status', async () => {
    const x = await explain();
    expect(x).toMatchObject({ account: 'acc-1', events: 5, first: T0, last: T0 + 300_000 });
    expect([...x.keys.get('deviceId')!]).toEqual(['d-1']);
  });

  it('struck: when, and how often the cooldown spared the account afterwards', async () => {
    const burst = ruleOf(await explain(), 'burst');
    expect(burst.verdict).toBe('struck');
    expect(burst.why).toBe('struck 1×; met 1 more time(s) while the 10m cooldown spared the account');
    expect(burst.keys[0]).toMatchObject({ field: 'accountId', value: 'acc-1', matched: 5, struck: [T0 + 20_000], spared: 1 });
    expect(burst.keys[0]!.closest).toMatchObject({ ts: T0 + 20_000, met: true, closeness: 1 });
  });

  it('a strike through a shared key (device farm) made by another account\'s event', async () => {
    const farm = ruleOf(await explain(), 'farm');
    expect(farm.verdict).toBe('struck');
    expect(farm.keys[0]).toMatchObject({ field: 'deviceId', value: 'd-1', struck: [T0 + 40_000] });
  });

  it('below threshold: the closest approach with its value', async () => {
    const lots = ruleOf(await explain(), 'lots');
    expect(lots.verdict).toBe('below-threshold');
    expect(lots.keys[0]!.closest).toMatchObject({ ts: T0 + 30_000, conditions: [{ kind: 'velocity', observed: 4, threshold: 100 }] });
    expect(lots.why).toBe('below threshold: best velocity 4 < 100 at 2026-11-02T00:00:30.000Z on accountId acc-1');
  });

  it('no match: the match excluded every event, or the account has no value for the key, or the rule is off', async () => {
    const x = await explain();
    expect(ruleOf(x, 'video-only')).toMatchObject({ verdict: 'no-match', why: "no match: no event on the account's accountId key(s) passed the rule's match" });
    expect(ruleOf(x, 'by-agent')).toMatchObject({ verdict: 'no-match', why: "no match: the account's events have no userAgent, which the rule counts per" });
    expect(ruleOf(x, 'disabled')).toMatchObject({ verdict: 'off' });
  });

  it('--at: the state as of the last matching event before it, and the cooldown then', async () => {
    const x = await explain('acc-1', T0 + 120_000);
    const burst = ruleOf(x, 'burst');
    expect(burst.keys[0]!.atState).toMatchObject({ ts: T0 + 30_000, conditions: [{ observed: 4 }], met: true });
    expect(burst.cooldownUntil).toBe(T0 + 20_000 + 600_000);
    const early = ruleOf(await explain('acc-1', T0 - 1), 'burst');
    expect(early.keys[0]!.atState).toBeUndefined();
    expect(early.cooldownUntil).toBeUndefined();
  });

  it('text and JSON agree, struck rules first', async () => {
    const x = await explain('acc-1', T0 + 120_000);
    const text = formatExplanation(x);
    expect(text.indexOf('burst  [')).toBeLessThan(text.indexOf('lots  ['));
    expect(text).toMatch(/at 2026-11-02T00:02:00.000Z: as of the last matching event, velocity 4 ≥ 3 ✓ .*in cooldown until 2026-11-02T00:10:20.000Z/);
    const json = explanationJson(x) as { rules: Array<{ rule: string; verdict: string }> };
    expect(json.rules.map((r) => `${r.rule}:${r.verdict}`)).toEqual(['burst:struck', 'farm:struck', 'lots:below-threshold', 'by-agent:no-match', 'video-only:no-match', 'disabled:off']);
  });

  it('an account with no events in the input is an error, not an empty explanation', async () => {
    await expect(explain('acc-404')).rejects.toBeInstanceOf(UnknownAccountError);
  });
});
