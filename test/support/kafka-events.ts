import { Partitioners, type PartitionMetadata } from 'kafkajs';
import type { GenerationEvent } from '../../src/contract/event.js';
import { Random } from '../../src/simulate/random.js';

/** The events partition kafkajs' default (Java-compatible murmur2) partitioner picks for a key. */
export function partitionOf(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }) as PartitionMetadata);
  return partitioner({ topic: 'events', partitionMetadata, message: { key, value: null } });
}

export interface SyntheticOptions {
  /** Partitions of the events topic: each farm's accounts are picked to share one, so its strikes are deterministic. */
  partitions: number;
  ordinary: number;
  scrapers: number;
  farms: number;
  hours: number;
  seed?: number;
}

const T0 = Date.parse('2026-11-02T00:00:00Z');
const FARM_SIZE = 6;

/**
 * A small population whose outcome is known: scrapers burst 35 requests a minute every hour (a velocity strike an
 * hour: paused, then suspended), farms of six accounts share a device (a device strike each: paused), ordinary
 * accounts do nothing wrong. Farm accounts live on one events partition, so which event trips the device rule does not
 * depend on how partitions interleave, and a replay must reproduce every strike id exactly.
 */
export function syntheticEvents(o: SyntheticOptions): string[] {
  const random = new Random(o.seed ?? 7);
  const rnd = () => random.next();
  const raw: Array<Omit<GenerationEvent, 'eventId'> & { ts: number }> = [];
  let requests = 0;
  const generation = (ts: number, accountId: string, deviceId: string, ip: string) => {
    const requestId = `r-${++requests}`;
    const base = { accountId, requestId, plan: 'unlimited', unlimited: true, tool: 'image' as const, model: 'imagine-4', speed: 'fast' as const, ip, deviceId, timezone: 'UTC', country: 'JP' };
    raw.push({ ...base, ts, type: 'generation.requested', occurredAt: '' });
    raw.push({ ...base, ts: ts + 1_000, type: 'generation.completed', occurredAt: '' });
  };
  const end = T0 + o.hours * 3_600_000;
  for (let i = 0; i < o.ordinary; i++) {
    for (let ts = T0 + rnd() * 900_000; ts < end; ts += 600_000 + rnd() * 900_000) generation(ts, `acc-${i}`, `dev-acc-${i}`, `10.0.${i}.1`);
  }
  for (let i = 0; i < o.scrapers; i++) {
    for (let hour = 0; hour < o.hours; hour++) {
      let ts = T0 + hour * 3_600_000 + rnd() * 1_200_000;
      for (let n = 0; n < 35; n++, ts += 500 + rnd() * 1_000) generation(ts, `scr-${i}`, `dev-scr-${i}`, `10.1.${i}.1`);
    }
  }
  for (let f = 0; f < o.farms; f++) {
    const accounts: string[] = [];
    for (let n = 0; accounts.length < FARM_SIZE; n++) {
      const id = `farm-${f}-${n}`;
      if (partitionOf(id, o.partitions) === f % o.partitions) accounts.push(id);
    }
    accounts.forEach((accountId, n) => {
      for (let ts = T0 + n * 600_000 + rnd() * 60_000; ts < end; ts += 1_800_000 + rnd() * 600_000) generation(ts, accountId, `farm-dev-${f}`, `10.2.${f}.${n + 1}`);
    });
  }
  raw.sort((a, b) => a.ts - b.ts);
  return raw.map(({ ts, ...e }, i) => JSON.stringify({ eventId: `e-${i + 1}`, ...e, occurredAt: new Date(ts).toISOString() }));
}

/** One Unlimited Fast image request as an NDJSON line: the plainest event a test can send. */
export function requestLine(accountId: string, i: number, at: number): string {
  return JSON.stringify({
    eventId: `${accountId}-e${i}`,
    type: 'generation.requested',
    occurredAt: new Date(at).toISOString(),
    accountId,
    requestId: `${accountId}-r${i}`,
    plan: 'unlimited',
    unlimited: true,
    tool: 'image',
    model: 'imagine-4',
    speed: 'fast',
    ip: '203.0.113.9',
  });
}

/** A rule file with one per-account velocity rule: requests per minute reaching `threshold`. */
export function velocityRuleYaml(threshold: number): string {
  return `
rules:
  - id: burst
    description: many requests in a minute
    severity: medium
    mode: enforce
    owner: test
    match:
      - { field: type, op: equals, value: generation.requested }
    groupBy: accountId
    conditions:
      - { kind: velocity, window: 1m, threshold: ${threshold} }
    strike: { points: 5, reason: burst }
    cooldown: 1h
`;
}
