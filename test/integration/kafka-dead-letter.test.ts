import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Partitioners, type KafkaMessage, type Message } from 'kafkajs';
import { MAX_EVENT_BYTES } from '../../src/contract/event.js';
import type { DeadLetter, Strike, Transition } from '../../src/contract/outputs.js';
import { HEADER } from '../../src/adapters/kafka/codec.js';
import { exportTopic } from '../../src/adapters/kafka/export.js';
import { readToEnd } from '../../src/adapters/kafka/reader.js';
import { BundleWriter, type Observation } from '../../src/adapters/kafka/repartition.js';
import type { AccountState } from '../../src/adapters/kafka/stages/enforce.js';
import type { Worker } from '../../src/adapters/kafka/worker.js';
import type { KafkaConfig } from '../../src/adapters/kafka/config.js';
import type { Topics } from '../../src/adapters/kafka/topics.js';
import { requestLine } from '../support/kafka-events.js';
import { kafkaBrokers } from '../support/kafka.js';
import { client, createTopics, drained, exportRecords, inProcessWorker, testConfig, uniquePrefix } from '../support/kafka-pipeline.js';

const T0 = Date.parse('2026-11-02T09:00:00Z');

function event(i: number, accountId: string, seconds: number): string {
  return requestLine(accountId, i, T0 + seconds * 1000);
}

function bundle(...observations: Observation[]): Buffer {
  const w = new BundleWriter();
  for (const o of observations) w.add(o);
  return w.seal();
}

const command = (commandId: string, kind: string, accountId: string) =>
  JSON.stringify({ commandId, kind, accountId, actor: 'agent-7', reason: 'review', at: new Date(T0 + 3_600_000).toISOString() });

interface Letter {
  headers: Record<string, string>;
  body: DeadLetter;
}

describe('Kafka pipeline sets bad input aside and keeps flowing', () => {
  let brokers: string;
  let config: KafkaConfig;
  let topics: Topics;
  let worker: Worker;
  let letters: Letter[];

  beforeAll(async () => {
    brokers = await kafkaBrokers();
    config = testConfig(brokers, uniquePrefix('dead-letter'));
    topics = await createTopics(brokers, config);
    const producer = client(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const key = 'acc-dl';
    // All on one key, so all in one partition: the valid events after the bad ones prove the partition kept flowing.
    const bad: Message[] = [
      { key, value: '{"eventId": "not-json", ' },
      { key, value: JSON.stringify({ eventId: 'e-schema', type: 'generation.exploded', accountId: key }) },
      { key, value: JSON.stringify({ eventId: 'e-big', pad: 'x'.repeat(MAX_EVENT_BYTES + 10) }) },
      { key, value: null },
      { key, value: Buffer.from([0xff, 0xfe, 0x7b, 0x00]) },
      { key, value: 'x'.repeat(900 * 1024) },
    ];
    const burst = Array.from({ length: 35 }, (_, i) => ({ key, value: event(i, key, i) }));
    // An hour behind the burst: beyond the 5 minute allowed lateness.
    const late = { key, value: event(99, key, -3_600) };
    await producer.send({ topic: topics.events, messages: [...bad, ...burst, late] });
    const observation = (field: string, offset: bigint): Observation => ({ field, key: 'd-1', partition: 0, offset, event: Buffer.from(event(1, 'acc-x', 0)) });
    const whole = bundle(observation('deviceId', 1n));
    const body = whole.subarray(whole.indexOf('\n') + 1);
    // One key, so one partition: the valid bundle after the damaged ones proves the partition kept flowing.
    await producer.send({
      topic: topics.repartition,
      messages: [
        { key: 'd-1', value: event(1, 'acc-x', 0) },
        { key: 'd-1', value: whole.subarray(0, whole.length - 10) },
        { key: 'd-1', value: Buffer.concat([Buffer.from('fairuse-repartition/1 2\n'), body]) },
        { key: 'd-1', value: Buffer.concat([Buffer.from('fairuse-repartition/7 1\n'), body]) },
        { key: 'd-1', value: bundle(observation('shoeSize', 2n), observation('deviceId', 2n)) },
      ],
    });
    await producer.send({
      topic: topics.commands,
      messages: [
        { key: 'acc-cmd', value: 'pause them all!' },
        { key: 'acc-cmd', value: JSON.stringify({ commandId: 'c-0', kind: 'manual.nuke', accountId: 'acc-cmd' }) },
        { key: 'acc-cmd', value: command('c-1', 'appeal.restore', 'acc-cmd') },
        { key: 'acc-cmd', value: command('c-2', 'manual.pause', 'acc-cmd') },
      ],
    });
    const shadow: Strike = {
      strikeId: 'stk-shadow',
      ruleId: 'farm-shared-ip',
      ruleVersion: 'v1',
      mode: 'shadow',
      severity: 'low',
      points: 5,
      accountId: 'acc-s',
      at: new Date(T0).toISOString(),
      reason: 'shared IP',
      tags: [],
      key: { field: 'ip', value: '203.0.113.9' },
      evidence: { triggerEventId: 'e-1', conditions: [], sampleEventIds: [] },
    };
    await producer.send({
      topic: topics.strikes,
      messages: [
        { key: 'acc-s', value: 'strike?' },
        { key: 'acc-s', value: JSON.stringify(shadow) },
      ],
    });
    await producer.disconnect();

    worker = await inProcessWorker(config);
    await drained(brokers, config);
    const raw: KafkaMessage[] = [];
    await readToEnd(client(brokers), topics.deadLetter, (m) => void raw.push(m));
    letters = raw.map((m) => ({
      headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
      body: JSON.parse(m.value!.toString()) as DeadLetter,
    }));
  });

  afterAll(async () => {
    await worker?.stop();
  });

  const of = (source: string) => letters.filter((l) => l.body.source?.startsWith(source));

  it('dead-letters non-JSON, schema-invalid, oversized, empty and late events with the reason in headers and body', () => {
    const events = of(`${topics.events}/`);
    expect(events.map((l) => l.body.reason)).toEqual(['not-json', 'schema', 'oversized', 'not-json', 'not-json', 'oversized', 'late']);
    for (const l of events) {
      expect(l.headers[HEADER.reason]).toBe(l.body.reason);
      expect(l.headers[HEADER.detail]!.length).toBeGreaterThan(0);
      expect(l.headers[HEADER.source]).toBe(l.body.source);
    }
    expect(events[1]!.body.detail).toContain('type');
    expect(events[2]!.body.detail).toContain(`exceeds ${MAX_EVENT_BYTES}`);
    // The quoted body of a 900 KB message is cut to the event limit; the dead letter stays small.
    expect(Buffer.byteLength(events[5]!.body.raw)).toBe(MAX_EVENT_BYTES);
    expect(events[6]!.body.raw).toContain('acc-dl-e99');
  });

  it('keeps the partition flowing: the burst after the bad messages is struck', async () => {
    const strikes = await exportRecords<Strike>(brokers, config, 'strikes');
    expect(strikes.map((s) => `${s.ruleId} ${s.accountId}`)).toContain('scraping-burst-velocity acc-dl');
  });

  it('dead-letters damaged repartition bundles whole, and observations of fields no rule groups by alone', () => {
    const fanout = of(`${topics.repartition}/`);
    expect(fanout.map((l) => [l.body.reason, l.body.detail])).toEqual([
      ['schema', 'malformed repartition bundle: expected "fairuse-repartition/1 <count>" on the first line'],
      ['schema', 'malformed repartition bundle: observation 1 of 1: truncated, 10 bytes missing'],
      ['schema', 'malformed repartition bundle: declares 2 observations but holds 1'],
      ['schema', 'malformed repartition bundle: version 7, this fanout reads version 1'],
      ['schema', 'no shared rule groups by "shoeSize"'],
    ]);
    // A damaged bundle is quoted as it was; an observation set aside alone is quoted as its event.
    expect(fanout[0]!.body.raw).toBe(event(1, 'acc-x', 0));
    expect(fanout[4]!.body.raw).toBe(event(1, 'acc-x', 0));
  });

  it('dead-letters malformed and refused support commands with the reason, and applies the valid one', async () => {
    const commands = of(`${topics.commands}/`);
    expect(commands.map((l) => l.body.reason)).toEqual(['bad-command', 'bad-command', 'bad-command']);
    expect(commands[0]!.body.detail).toMatch(/^not JSON/);
    expect(commands[1]!.body.detail).toMatch(/^invalid command/);
    expect(commands[2]!.body.detail).toBe('cannot appeal.restore account acc-cmd: it is active; appeal.restore needs a paused account with an open appeal');
    const transitions = await exportRecords<Transition>(brokers, config, 'transitions');
    expect(transitions.filter((t) => t.accountId === 'acc-cmd').map((t) => `${t.from}->${t.to} ${t.commandId}`)).toEqual(['active->paused c-2']);
    const states = await exportRecords<AccountState>(brokers, config, 'account-state');
    expect(states.find((s) => s.accountId === 'acc-cmd')?.status).toBe('paused');
  });

  it('dead-letters strikes that are not enforced strikes of this pipeline, and export skips what is not a record', async () => {
    expect(of(`${topics.strikes}/`).map((l) => [l.body.reason, l.body.detail.split(':')[0]])).toEqual([
      ['not-json', 'strike'],
      ['schema', 'shadow strike on the strikes topic'],
    ]);
    const file = join(await mkdtemp(join(tmpdir(), 'kafka-export-')), 'strikes.ndjson');
    const summary = await exportTopic(client(brokers), topics, 'strikes', file);
    expect(summary.unreadable).toBe(1);
    expect(summary.written).toBe(summary.read - 1);
  });
});
