import { describe, expect, it } from 'vitest';
import type { KafkaMessage, Message } from 'kafkajs';
import type { Strike } from '../../src/contract/outputs.js';
import { HEADER, originHeader, repartitionOrigin } from '../../src/adapters/kafka/codec.js';
import { PipelineMetrics } from '../../src/adapters/kafka/metrics.js';
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

/** Collects what a task pushes, by topic. */
class Capture extends Outputs {
  readonly pushed: Array<{ topic: string; message: Message }> = [];
  constructor() {
    super({ messages: 1e9, bytes: 1e12 });
  }
  override push(topic: string, message: Message): void {
    this.pushed.push({ topic, message });
  }
  on(topic: string) {
    return this.pushed.filter((p) => p.topic === topic).map((p) => p.message);
  }
}

let offset = 0;
const message = (value: string | Buffer, headers: KafkaMessage['headers'] = {}, key: string | null = null): KafkaMessage =>
  ({ key: key === null ? null : Buffer.from(key), value: Buffer.from(value), headers, offset: String(offset++), timestamp: '0', attributes: 0 }) as KafkaMessage;

describe('detect stage task', () => {
  it('republishes accepted events once per shared field, keyed by its value, skipping absent or empty values', () => {
    const out = new Capture();
    const task = detectStage(topics, RULES, testPolicy(), 3_600_000, new PipelineMetrics()).newTask(0, out);
    const events = [ev(0, { deviceId: 'd-1', ip: '203.0.113.1' }), ev(1, { deviceId: '', ip: '203.0.113.2' }), ev(2, { deviceId: undefined, ip: '203.0.113.3' })];
    for (const e of events) expect(task.handle(topics.events, 2, message(JSON.stringify(e.event)), Infinity)).toBeUndefined();
    task.handle(topics.events, 2, message(JSON.stringify(events[0]!.event)), Infinity); // a redelivery: not republished
    const republished = out.on(topics.repartition);
    expect(republished.map((m) => `${repartitionOrigin(m.headers)!.field}=${String(m.key)}`)).toEqual(['deviceId=d-1', 'ip=203.0.113.1', 'ip=203.0.113.2', 'ip=203.0.113.3']);
    expect(republished.every((m) => repartitionOrigin(m.headers)!.partition === 2)).toBe(true);
  });

  it('leaves an event alone when it would take the partition past the alignment limit', () => {
    const out = new Capture();
    const task = detectStage(topics, RULES, testPolicy(), 3_600_000, new PipelineMetrics()).newTask(0, out);
    const later = ev(7_200);
    const at = task.handle(topics.events, 0, message(JSON.stringify(later.event)), later.ts - 3_600_000);
    expect(at).toBe(later.ts - 5 * 60_000);
    expect(out.pushed).toEqual([]);
    expect(task.handle(topics.events, 0, message('not json'), 0)).toBeUndefined();
    expect(out.on(topics.deadLetter)).toHaveLength(1);
  });
});

describe('fanout stage task', () => {
  const repartitioned = (e: ReturnType<typeof ev>, field: string, key: string, srcOffset: number) =>
    message(JSON.stringify(e.event), { [HEADER.field]: originHeader({ field, partition: 0, offset: BigInt(srcOffset) }) }, key);

  it('feeds each message only to the engine of its field, and drops replays by source position', () => {
    const out = new Capture();
    const stage = fanoutStage(topics, RULES, testPolicy(), 3_600_000, new PipelineMetrics());
    const task = stage.newTask(0, out);
    // Three accounts on one device but on three IPs: the device rule fires, the IP rule must not.
    const events = ['a', 'b', 'c'].map((acc, i) => ev(i, { accountId: acc, deviceId: 'd-9', ip: `203.0.113.${i}` }));
    events.forEach((e, i) => task.handle(topics.repartition, 0, repartitioned(e, 'deviceId', 'd-9', i), Infinity));
    events.forEach((e, i) => task.handle(topics.repartition, 0, repartitioned(e, 'ip', e.event.ip, i), Infinity));
    const strikes = () => out.on(topics.strikes).map((m) => JSON.parse(String(m.value)) as Strike);
    expect(strikes().map((s) => `${s.ruleId} ${s.accountId}`).sort()).toEqual(['device-farm a', 'device-farm b', 'device-farm c']);
    expect(out.on(topics.shadowStrikes)).toEqual([]);

    // A replay of detect republishes positions already applied; a fourth account arrives with a new position.
    const snapshot = task.snapshot();
    const restored = stage.newTask(0, out);
    restored.restore(JSON.parse(JSON.stringify(snapshot)));
    restored.handle(topics.repartition, 0, repartitioned(events[2]!, 'deviceId', 'd-9', 2), Infinity);
    expect(strikes()).toHaveLength(3);
    restored.handle(topics.repartition, 0, repartitioned(ev(4, { accountId: 'd', deviceId: 'd-9' }), 'deviceId', 'd-9', 3), Infinity);
    expect(strikes().map((s) => s.accountId).sort()).toEqual(['a', 'b', 'c', 'd']);
  });
});
