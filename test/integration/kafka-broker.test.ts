import { randomUUID } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { Kafka, logLevel, Partitioners, type KafkaMessage } from 'kafkajs';
import { kafkaBrokers } from '../support/kafka.js';

const KEYS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'];

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !done(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
  }
}

describe('Kafka broker', () => {
  it('delivers 100 keyed messages through a 3-partition topic, in order per key', async () => {
    const kafka = new Kafka({ clientId: 'kafka-broker-test', brokers: [await kafkaBrokers()], logLevel: logLevel.WARN });
    const topic = `kafka-broker-test-${randomUUID()}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    // A short fetch wait: disconnect() waits for the in-flight long poll, which would add up to 5 s.
    const consumer = kafka.consumer({ groupId: `${topic}-group`, maxWaitTimeInMs: 100 });
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(metadata?.partitions).toHaveLength(3);

      const sent = Array.from({ length: 100 }, (_, seq) => ({ key: KEYS[seq % KEYS.length]!, value: String(seq) }));
      await producer.connect();
      // Ten sequential batches, so per-key order spans several produce requests, not just one.
      for (let i = 0; i < sent.length; i += 10) await producer.send({ topic, messages: sent.slice(i, i + 10) });

      const received: { partition: number; message: KafkaMessage }[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }) => void received.push({ partition, message }) });
      await until(() => received.length >= sent.length, 30_000);

      expect(received).toHaveLength(100);
      const byKey = new Map<string | undefined, typeof received>();
      for (const m of received) {
        const key = m.message.key?.toString();
        byKey.set(key, [...(byKey.get(key) ?? []), m]);
      }
      expect([...byKey.keys()].sort()).toEqual([...KEYS].sort());
      for (const [key, messages] of byKey) {
        const expected = sent.filter((m) => m.key === key).map((m) => m.value);
        expect(messages.map(({ message }) => message.value?.toString()), `order of key ${key}`).toEqual(expected);
        expect(new Set(messages.map((m) => m.partition)).size, `partitions of key ${key}`).toBe(1);
      }
      // The keys really were spread over the partitions, so the per-key order above is not trivially total order.
      expect(new Set(received.map((m) => m.partition)).size).toBeGreaterThan(1);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });
});
