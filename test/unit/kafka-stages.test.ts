import { describe, expect, it } from 'vitest';
import type { KafkaMessage, Message } from 'kafkajs';
import type { DeadLetter, Strike } from '../../src/contract/outputs.js';
import { PipelineMetrics } from '../../src/adapters/kafka/metrics.js';
import { BundleWriter, decodeBundle, partitionFor, type Observation } from '../../src/adapters/kafka/repartition.js';
import { Outputs } from '../../src/adapters/kafka/stage.js';
import { detectStage } from '../../src/adapters/kafka/stages/detect.js';
import { fanoutStage } from '../../src/adapters/kafka/stages/fanout.js';
import { topicsOf } from '../../src/adapters/kafka/topics.js';
import { resolveKafkaConfig } from '../../src/adapters/kafka/config.js';
import { ev, rulesFrom, testPolicy } from '../support/events.js';

const RULES = rulesFrom(`
rules:
  - id: device-farm
    description: accounts per device
    severity: high
    mode: enforce
    owner: test
    match: [{ field: deviceId, op: exists }]
    groupBy: deviceId
    conditions: [{ kind: distinct, field: accountId, window: 7d, threshold: 3 }]
    strike: { points: 10, reason: farm }
    cooldown: 7d
  - id: ip-fanout
    description: accounts per IP
    severity: low
    mode: shadow
    owner: test
    match: [{ field: type, op: equals, value: generation.requested }]
    groupBy: ip
    conditions: [{ kind: distinct, field: accountId, window: 1d, threshold: 3 }]
    strike: { points: 1, reason: ip }
    cooldown: 1d
`);
const topics = topicsOf(resolveKafkaConfig({ brokers: ['h:1'], topicPrefix: 'u.' }));

/** Collects what a task outputs, by topic, as it would be sent (bundles sealed). */
class Capture extends Outputs {
  readonly sent: Array<{ topic: string; message: Message }> = [];
  constructor() {
    super({ messages: 1e9, bytes: 1e12 });
  }
  on(topic: string) {
    for (const t of this.take()) for (const message of t.messages) this.sent.push({ topic: t.topic, message });
    return this.sent.filter((p) => p.topic === topic).map((p) => p.message);
  }
}

const REPARTITION_PARTITIONS = 6;

let offset = 0;
const message = (value: string | Buffer, headers: KafkaMessage['headers'] = {}, key: string | null = null): KafkaMessage =>
  ({ key: key === null ? null : Buffer.from(key), value: Buffer.from(value), headers, offset: String(offset++), timestamp: '0', attributes: 0 }) as KafkaMessage;

describe('detect stage task', () => {
  it('observes accepted events once per shared field, in one bundle per partition of the value, skipping absent or empty values', () => {
    const out = new Capture();
    const task = detectStage(topics, RULES, testPolicy(), 3_600_000, new PipelineMetrics(), REPARTITION_PARTITIONS).newTask(0, out);
    const events = [ev(0, { deviceId: 'd-1', ip: '203.0.113.1' }), ev(1, { deviceId: '', ip: '203.0.113.2' }), ev(2, { deviceId: undefined, ip: '203.0.113.3' })];
    const offsets = events.map((e) => {
      const m = message(JSON.stringify(e.event));
      expect(task.handle(topics.events, 2, m, Infinity)).toBeUndefined();
      return BigInt(m.offset);
    });
    task.handle(topics.events, 2, message(JSON.stringify(events[0]!.event)), Infinity); // a redelivery: not observed again
    const bundles = out.on(topics.repartition);
    const observed = bundles.flatMap((m) => {
      const decoded = decodeBundle(m.value as Buffer);
      if (!decoded.ok) throw new Error(decoded.detail);
      // Every observation in a bundle belongs to the bundle's partition.
      for (const o of decoded.observations) expect(partitionFor(o.key, REPARTITION_PARTITIONS)).toBe(m.partition);
      return decoded.observations;
    });
    expect(new Set(bundles.map((m) => m.partition)).size).toBe(bundles.length);
    const byOrigin = (o: Observation) => `${o.field}=${o.key} @${o.partition}:${o.offset}`;
    expect(observed.map(byOrigin).sort()).toEqual(
      [`deviceId=d-1 @2:${offsets[0]}`, `ip=203.0.113.1 @2:${offsets[0]}`, `ip=203.0.113.2 @2:${offsets[1]}`, `ip=203.0.113.3 @2:${offsets[2]}`].sort(),
    );
    expect(observed.every((o) => JSON.parse(o.event.toString()).eventId.startsWith('e-'))).toBe(true);
  });

  it('leaves an event alone when it would take the partition past the alignment limit', () => {
    const out = new Capture();
    const task = detectStage(topics, RULES, testPolicy(), 3_600_000, new PipelineMetrics(), REPARTITION_PARTITIONS).newTask(0, out);
    const later = ev(7_200);
    const at = task.handle(topics.events, 0, message(JSON.stringify(later.event)), later.ts - 3_600_000);
    expect(at).toBe(later.ts - 5 * 60_000);
    expect(out.take()).toEqual([]);
    expect(task.handle(topics.events, 0, message('not json'), 0)).toBeUndefined();
    expect(out.on(topics.deadLetter)).toHaveLength(1);
  });
});

describe('fanout stage task', () => {
  const observed = (e: ReturnType<typeof ev>, field: string, key: string, srcOffset: number): Observation => ({
    field,
    key,
    partition: 0,
    offset: BigInt(srcOffset),
    event: Buffer.from(JSON.stringify(e.event)),
  });
  const bundle = (...observations: Observation[]) => {
    const w = new BundleWriter();
    for (const o of observations) w.add(o);
    return message(w.seal());
  };

  it('feeds each observation only to the engine of its field, and drops replays by source position', () => {
    const out = new Capture();
    const stage = fanoutStage(topics, RULES, testPolicy(), 3_600_000, new PipelineMetrics());
    const task = stage.newTask(0, out);
    // Three accounts on one device but on three IPs: the device rule fires, the IP rule must not.
    const events = ['a', 'b', 'c'].map((acc, i) => ev(i, { accountId: acc, deviceId: 'd-9', ip: `203.0.113.${i}` }));
    task.handle(topics.repartition, 0, bundle(...events.map((e, i) => observed(e, 'deviceId', 'd-9', i))), Infinity);
    task.handle(topics.repartition, 0, bundle(...events.map((e, i) => observed(e, 'ip', e.event.ip, i))), Infinity);
    const strikes = () => out.on(topics.strikes).map((m) => JSON.parse(String(m.value)) as Strike);
    expect(strikes().map((s) => `${s.ruleId} ${s.accountId}`).sort()).toEqual(['device-farm a', 'device-farm b', 'device-farm c']);
    expect(out.on(topics.shadowStrikes)).toEqual([]);

    // A replay of detect republishes positions already applied, in a bundle with a fourth account at a new position.
    const snapshot = task.snapshot();
    const restored = stage.newTask(0, out);
    restored.restore(JSON.parse(JSON.stringify(snapshot)));
    restored.handle(topics.repartition, 0, bundle(observed(events[2]!, 'deviceId', 'd-9', 2), observed(ev(4, { accountId: 'd', deviceId: 'd-9' }), 'deviceId', 'd-9', 3)), Infinity);
    expect(strikes().map((s) => s.accountId).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('dead-letters a malformed bundle whole, and an observation of an unknown field alone', () => {
    const out = new Capture();
    const task = fanoutStage(topics, RULES, testPolicy(), 3_600_000, new PipelineMetrics()).newTask(0, out);
    const e = ev(0, { accountId: 'a', deviceId: 'd-9' });
    task.handle(topics.repartition, 1, message(JSON.stringify(e.event), {}, 'd-9'), Infinity);
    task.handle(topics.repartition, 1, bundle(observed(e, 'shoeSize', '44', 0), observed(e, 'deviceId', 'd-9', 0)), Infinity);
    const letters = out.on(topics.deadLetter).map((m) => ({ key: String(m.key), ...(JSON.parse(String(m.value)) as DeadLetter) }));
    expect(letters.map((l) => [l.key, l.reason, l.detail])).toEqual([
      ['d-9', 'schema', 'malformed repartition bundle: expected "fairuse-repartition/1 <count>" on the first line'],
      ['44', 'schema', 'no shared rule groups by "shoeSize"'],
    ]);
    expect(letters[1]!.raw).toBe(JSON.stringify(e.event));
    expect(letters.map((l) => l.source)).toEqual([`${topics.repartition}/1@${offset - 2}`, `${topics.repartition}/1@${offset - 1}`]);
  });
});
