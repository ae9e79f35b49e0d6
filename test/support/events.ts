import type { GenerationEvent } from '../../src/contract/event.js';
import type { TimedEvent } from '../../src/contract/parse.js';
import { loadRules } from '../../src/rules/load.js';
import type { RuleSet } from '../../src/rules/ruleset.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/schema.js';

export const T0 = Date.parse('2026-11-02T00:00:00Z');
let seq = 0;

/** A valid generation event at `T0 + seconds`; every field can be overridden. */
export function ev(seconds: number, overrides: Partial<GenerationEvent> = {}): TimedEvent {
  seq++;
  const ts = T0 + Math.round(seconds * 1000);
  const event: GenerationEvent = {
    eventId: `e-${seq}`,
    type: 'generation.requested',
    occurredAt: new Date(ts).toISOString(),
    accountId: 'acc-1',
    requestId: `r-${seq}`,
    plan: 'unlimited',
    unlimited: true,
    tool: 'image',
    model: 'imagine-4',
    speed: 'fast',
    ip: '203.0.113.7',
    deviceId: 'd-1',
    timezone: 'UTC',
    country: 'JP',
    ...overrides,
  };
  return { event, ts: Date.parse(event.occurredAt) };
}

/** One rule file from YAML text, for tests that exercise a single heuristic. */
export function rulesFrom(yaml: string, file = 'test.yaml'): RuleSet {
  return loadRules([{ file, text: yaml }]);
}

export const TEST_POLICY_YAML = `
time: { allowedLateness: 5m, dedupeHorizon: 15m, inflightTimeout: 15m }
quota:
  plans: { unlimited: { image: 1000, video: 100 } }
  relaxedModels: [imagine-4]
enforcement: { lookback: 7d, pauseAt: 10, suspendAt: 30, probation: 90d }
`;

export function testPolicy(extra = ''): Policy {
  return parsePolicy(TEST_POLICY_YAML + extra);
}
