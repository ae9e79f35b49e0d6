import { describe, expect, it } from 'vitest';
import type { SpeedDecision } from '../../src/contract/outputs.js';
import { EntitlementService, entitlementOf, type EntitlementInputs } from '../../src/support/entitlement.js';

const NOW = Date.parse('2026-11-02T12:00:00Z');
const at = (minutes: number) => new Date(NOW + minutes * 60_000).toISOString();
const decision = (over: Partial<SpeedDecision>): SpeedDecision => ({
  decisionId: `spd-${Math.random()}`,
  accountId: 'acc-1',
  kind: 'daily-fast-quota',
  speed: 'relaxed',
  at: at(-10),
  until: at(60),
  reason: 'quota',
  ...over,
});

describe('entitlementOf', () => {
  it('is fast without a case or decisions', () => {
    expect(entitlementOf('acc-1', { decisions: [] }, NOW)).toEqual({ accountId: 'acc-1', access: 'active', speed: 'fast', until: null, reasons: [] });
  });
  it('blocks a paused or suspended account whatever the decisions, with the case reason', () => {
    for (const status of ['paused', 'suspended'] as const) {
      expect(entitlementOf('acc-1', { status, statusReason: 'strikes', decisions: [decision({})] }, NOW)).toEqual({ accountId: 'acc-1', access: status, speed: 'blocked', until: null, reasons: ['strikes'] });
    }
  });
  it('takes the most restrictive decision in force and the latest end at that speed', () => {
    const inputs: EntitlementInputs = {
      status: 'active',
      decisions: [
        decision({ speed: 'relaxed', until: at(30), reason: 'throttle' }),
        decision({ speed: 'blocked', tool: 'video', until: at(90), reason: 'video quota' }),
        decision({ speed: 'blocked', tool: 'video', until: at(120), reason: 'video quota again' }),
        decision({ speed: 'blocked', until: at(-1), reason: 'expired' }),
        decision({ speed: 'blocked', at: at(1), reason: 'not yet' }),
        decision({ kind: 'concurrency-cap', speed: 'fast', maxConcurrent: 4, reason: 'cap' }),
      ],
    };
    expect(entitlementOf('acc-1', inputs, NOW)).toEqual({
      accountId: 'acc-1',
      access: 'active',
      speed: 'blocked',
      until: at(120),
      reasons: ['video quota again', 'video quota', 'throttle', 'cap'],
      maxConcurrent: 4,
    });
    expect(entitlementOf('acc-1', inputs, NOW, { tool: 'image' })).toMatchObject({ speed: 'relaxed', until: at(30), reasons: ['throttle', 'cap'] });
  });
  it('ends a decision at its until, exclusive', () => {
    expect(entitlementOf('acc-1', { decisions: [decision({ until: at(0) })] }, NOW).speed).toBe('fast');
  });
});

describe('EntitlementService cache', () => {
  const source = () => {
    const calls: string[] = [];
    let status: EntitlementInputs['status'] = 'active';
    return {
      calls,
      set: (s: EntitlementInputs['status']) => (status = s),
      load: async (id: string) => {
        calls.push(id);
        return { status, decisions: [] };
      },
    };
  };

  it('serves repeated lookups from the cache within the TTL and shares concurrent misses', async () => {
    const src = source();
    const svc = new EntitlementService(src, { ttlMs: 60_000 });
    await Promise.all([svc.get('acc-1'), svc.get('acc-1'), svc.get('acc-1')]);
    await svc.get('acc-1');
    expect(src.calls).toEqual(['acc-1']);
    await svc.get('acc-1', { tool: 'video' });
    expect(src.calls).toEqual(['acc-1', 'acc-1']);
  });
  it('reloads after the TTL and right after an invalidation', async () => {
    const src = source();
    const svc = new EntitlementService(src, { ttlMs: 30 });
    await svc.get('acc-1');
    src.set('paused');
    expect((await svc.get('acc-1')).access).toBe('active');
    await new Promise((r) => setTimeout(r, 40));
    expect((await svc.get('acc-1')).access).toBe('paused');
    src.set('suspended');
    svc.invalidate('acc-1');
    expect((await svc.get('acc-1')).access).toBe('suspended');
  });
  it('does not cache a failed load', async () => {
    let fail = true;
    const svc = new EntitlementService({ load: async () => (fail ? Promise.reject(new Error('es down')) : { decisions: [] }) }, { ttlMs: 60_000 });
    await expect(svc.get('acc-1')).rejects.toThrow('es down');
    fail = false;
    await expect(svc.get('acc-1')).resolves.toMatchObject({ speed: 'fast' });
  });
  it('keeps at most maxAccounts accounts', async () => {
    const src = source();
    const svc = new EntitlementService(src, { ttlMs: 60_000, maxAccounts: 2 });
    for (const id of ['a', 'b', 'c', 'a']) await svc.get(id);
    expect(src.calls).toEqual(['a', 'b', 'c', 'a']);
  });
});
