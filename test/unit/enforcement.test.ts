import { describe, expect, it } from 'vitest';
import type { AccountStatus, Command, CommandKind, Strike, Transition } from '../../src/contract/outputs.js';
import { EnforcementError } from '../../src/engine/enforcement.js';
import { Standings } from '../../src/engine/standings.js';
import { testPolicy } from '../support/events.js';

const policy = testPolicy().enforcement; // pauseAt 10, suspendAt 30, lookback 7d, probation 90d
const DAY = 86_400_000;
const T0 = Date.parse('2026-11-02T00:00:00Z');
let n = 0;

function strike(points: number, atMs: number, mode: Strike['mode'] = 'enforce', accountId = 'acc-1'): Strike {
  n++;
  return {
    strikeId: `stk-${n}`,
    ruleId: 'r1',
    ruleVersion: 'v',
    mode,
    severity: 'high',
    points,
    accountId,
    at: new Date(atMs).toISOString(),
    reason: 'test',
    tags: [],
    key: { field: 'accountId', value: accountId },
    evidence: { triggerEventId: `e-${n}`, conditions: [], sampleEventIds: [] },
  };
}

function command(kind: CommandKind, atMs: number, accountId = 'acc-1'): Command {
  n++;
  return { commandId: `cmd-${n}`, kind, accountId, actor: 'agent-7', reason: 'reviewed', at: new Date(atMs).toISOString() };
}

function harness(p = policy) {
  const transitions: Transition[] = [];
  const standings = new Standings(p);
  const out = { transition: (t: Transition) => transitions.push(t) };
  return {
    transitions,
    standings,
    strike: (s: Strike) => standings.applyStrike(s, out),
    command: (c: Command) => standings.applyCommand(c, out),
  };
}

/** Drives a fresh account into the given status. */
function inStatus(status: AccountStatus, appeal?: 'open') {
  const h = harness();
  if (status !== 'active') h.strike(strike(status === 'paused' ? 10 : 30, T0));
  if (appeal) h.command(command('appeal.open', T0 + 1000));
  return h;
}

describe('escalation by strike points', () => {
  it('stays active below pauseAt and pauses at exactly pauseAt', () => {
    const h = harness();
    h.strike(strike(9, T0));
    expect(h.standings.status('acc-1')).toBe('active');
    h.strike(strike(1, T0 + 1000));
    expect(h.standings.status('acc-1')).toBe('paused');
    expect(h.transitions).toHaveLength(1);
    expect(h.transitions[0]).toMatchObject({ accountId: 'acc-1', from: 'active', to: 'paused', actor: 'system', at: new Date(T0 + 1000).toISOString() });
    expect(h.transitions[0]!.strikeIds).toHaveLength(2);
  });

  it('goes straight from active to suspended at suspendAt', () => {
    const h = harness();
    h.strike(strike(30, T0));
    expect(h.transitions.map((t) => [t.from, t.to])).toEqual([['active', 'suspended']]);
  });

  it('a paused account is suspended once its points reach suspendAt', () => {
    const h = inStatus('paused');
    h.strike(strike(20, T0 + DAY));
    expect(h.transitions.map((t) => t.to)).toEqual(['paused', 'suspended']);
  });

  it('strikes older than the lookback no longer count (strikes expire)', () => {
    const h = harness();
    h.strike(strike(9, T0));
    h.strike(strike(9, T0 + 7 * DAY));
    expect(h.standings.status('acc-1')).toBe('active');
  });

  it('shadow strikes never escalate', () => {
    const h = harness();
    h.strike(strike(100, T0, 'shadow'));
    expect(h.standings.status('acc-1')).toBe('active');
    expect(h.transitions).toHaveLength(0);
  });

  it('the same strike delivered twice counts once', () => {
    const h = harness();
    const s = strike(5, T0);
    h.strike(s);
    h.strike(s);
    expect(h.standings.status('acc-1')).toBe('active');
    expect(h.standings.caseOf('acc-1')!.strikes).toHaveLength(1);
  });

  it('suspended is final: further strikes change nothing', () => {
    const h = inStatus('suspended');
    h.strike(strike(50, T0 + DAY));
    expect(h.transitions).toHaveLength(1);
    expect(h.standings.status('acc-1')).toBe('suspended');
  });
});

describe('appeals and the repeat-offender path', () => {
  it('paused → appeal → restored → new violation → suspended permanently', () => {
    const h = harness();
    h.strike(strike(10, T0));
    h.command(command('appeal.open', T0 + DAY));
    expect(h.standings.caseOf('acc-1')!.appeal.status).toBe('open');
    h.command(command('appeal.restore', T0 + 2 * DAY));
    expect(h.standings.status('acc-1')).toBe('active');
    h.strike(strike(10, T0 + 3 * DAY));
    expect(h.standings.status('acc-1')).toBe('suspended');
    expect(h.transitions.map((t) => `${t.from}→${t.to}:${t.actor}`)).toEqual([
      'active→paused:system',
      'paused→active:agent-7',
      'active→suspended:system',
    ]);
    expect(h.transitions[2]!.reason).toMatch(/repeat violation after a restored appeal/);
    expect(() => h.command(command('manual.restore', T0 + 4 * DAY))).toThrow(EnforcementError);
  });

  it('restore clears the strikes behind the pause, so they do not re-pause the account', () => {
    const h = harness();
    h.strike(strike(10, T0));
    h.command(command('manual.restore', T0 + 1000));
    h.strike(strike(5, T0 + 2000));
    expect(h.standings.status('acc-1')).toBe('active');
    expect(h.standings.caseOf('acc-1')!.points).toBe(5);
  });

  it('after probation ends, reaching pauseAt pauses again instead of suspending', () => {
    const h = harness();
    h.strike(strike(10, T0));
    h.command(command('appeal.open', T0 + 1));
    h.command(command('appeal.restore', T0 + 2));
    h.strike(strike(10, T0 + 91 * DAY));
    expect(h.standings.status('acc-1')).toBe('paused');
  });

  it('an upheld appeal keeps the account paused by default', () => {
    const h = inStatus('paused', 'open');
    h.command(command('appeal.uphold', T0 + DAY));
    expect(h.standings.status('acc-1')).toBe('paused');
    expect(h.standings.caseOf('acc-1')!.appeal.status).toBe('upheld');
  });

  it('an upheld appeal suspends when the policy says so', () => {
    const h = harness({ ...policy, onAppealUpheld: 'suspended' });
    h.strike(strike(10, T0));
    h.command(command('appeal.open', T0 + 1));
    h.command(command('appeal.uphold', T0 + 2));
    expect(h.transitions.at(-1)).toMatchObject({ from: 'paused', to: 'suspended', actor: 'agent-7' });
  });

  it('records the actor, reason and command on manual transitions', () => {
    const h = harness();
    const c = command('manual.pause', T0);
    h.command(c);
    expect(h.transitions[0]).toMatchObject({ from: 'active', to: 'paused', actor: 'agent-7', commandId: c.commandId });
    expect(h.transitions[0]!.reason).toContain('reviewed');
  });

  it('a command applied twice (same commandId) changes nothing the second time', () => {
    const h = harness();
    const c = command('manual.pause', T0);
    h.command(c);
    expect(h.command(c)).toBeUndefined();
    expect(h.transitions).toHaveLength(1);
  });
});

describe('every command in every state', () => {
  type Setup = { status: AccountStatus; appeal?: 'open' };
  const states: Setup[] = [{ status: 'active' }, { status: 'paused' }, { status: 'paused', appeal: 'open' }, { status: 'suspended' }];
  const expected: Record<CommandKind, (s: Setup) => AccountStatus | 'refused'> = {
    'appeal.open': (s) => (s.status === 'paused' && !s.appeal ? 'paused' : 'refused'),
    'appeal.restore': (s) => (s.status === 'paused' && s.appeal ? 'active' : 'refused'),
    'appeal.uphold': (s) => (s.status === 'paused' && s.appeal ? 'paused' : 'refused'),
    'manual.pause': (s) => (s.status === 'active' ? 'paused' : 'refused'),
    'manual.suspend': (s) => (s.status === 'suspended' ? 'refused' : 'suspended'),
    'manual.restore': (s) => (s.status === 'paused' ? 'active' : 'refused'),
  };

  for (const setup of states) {
    for (const [kind, outcome] of Object.entries(expected) as Array<[CommandKind, (s: Setup) => AccountStatus | 'refused']>) {
      const want = outcome(setup);
      const label = `${setup.status}${setup.appeal ? ' (appeal open)' : ''}`;
      it(`${kind} on ${label} → ${want}`, () => {
        const h = inStatus(setup.status, setup.appeal);
        const before = h.transitions.length;
        const c = command(kind, T0 + DAY);
        if (want === 'refused') {
          expect(() => h.command(c)).toThrow(new RegExp(`cannot ${kind.replace('.', '\\.')} account acc-1: it is ${setup.status}`));
          expect(h.standings.status('acc-1')).toBe(setup.status);
          expect(h.transitions).toHaveLength(before);
        } else {
          h.command(c);
          expect(h.standings.status('acc-1')).toBe(want);
        }
      });
    }
  }

  it('a refused command on an unknown account opens no case', () => {
    const h = harness();
    expect(() => h.command(command('appeal.restore', T0, 'nobody'))).toThrow(EnforcementError);
    expect(h.standings.caseOf('nobody')).toBeUndefined();
  });
});
