import type { GenerationEvent } from '../../src/contract/event.js';
import type { TimedEvent } from '../../src/contract/parse.js';
import { loadRules } from '../../src/rules/load.js';
import type { RuleSet } from '../../src/rules/ruleset.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/schema.js';

export const T0 = Date.parse('2026-11-02T00:00:00Z');
let seq = 0;

/** The example event of shared/spec/events.md, field for field. */
export const SPEC_EXAMPLE_EVENT: GenerationEvent = {
  eventId: 'e-000001',
  type: 'generation.requested',
  occurredAt: '2026-11-02T09:15:02.120+09:00',
  accountId: 'acc-42',
  requestId: 'r-9f1',
  plan: 'unlimited',
  unlimited: true,
  tool: 'image',
  model: 'imagine-4',
  speed: 'fast',
  ip: '203.0.113.7',
  deviceId: 'd-7c1',
  userAgent: 'Mozilla/5.0',
  client: 'web',
  timezone: 'Asia/Tokyo',
  country: 'JP',
};

/** The spec example's required fields only (no device, zone or country: a quota falls back to UTC), plus overrides. */
export function requiredOnly(overrides: Partial<GenerationEvent> = {}): GenerationEvent {
  const { eventId, type, occurredAt, accountId, requestId, plan, unlimited, tool, model, speed, ip } = SPEC_EXAMPLE_EVENT;
  return { eventId, type, occurredAt, accountId, requestId, plan, unlimited, tool, model, speed, ip, ...overrides };
}

/** A valid generation event at `T0 + seconds`; every field can be overridden. */
export function ev(seconds: number, overrides: Partial<GenerationEvent> = {}): TimedEvent {
  seq++;
  const ts = T0 + Math.round(seconds * 1000);
  const event = requiredOnly({
    eventId: `e-${seq}`,
    occurredAt: new Date(ts).toISOString(),
    accountId: 'acc-1',
    requestId: `r-${seq}`,
    deviceId: 'd-1',
    timezone: 'UTC',
    country: 'JP',
    ...overrides,
  });
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
