import { describe, expect, it } from 'vitest';
import { CompressionTypes } from 'kafkajs';
import { CheckpointStore, encodeCheckpoint } from '../../src/adapters/kafka/checkpoint.js';
import { kafkaBrokers } from '../support/kafka.js';
import { client, createTopics, testConfig, uniquePrefix } from '../support/kafka-pipeline.js';

describe('checkpoint store', () => {
  it('round-trips snapshots far larger than a message, keeps the latest, and survives a write torn half-way', async () => {
    const brokers = await kafkaBrokers();
    const topics = await createTopics(brokers, testConfig(brokers, uniquePrefix('checkpoint')));
    const kafka = client(brokers);
    const producer = kafka.producer();
    await producer.connect();
    try {
      // Incompressible-ish content, 3 MB: 48 chunks of 64 KB, spread over several produce requests.
      const big = { ids: Array.from({ length: 60_000 }, (_, i) => `${i}-${Math.random().toString(36).slice(2)}`) };
      const store = new CheckpointStore(kafka, producer, topics.checkpoints, 64 * 1024);
      const body = encodeCheckpoint({ offsets: { events: '1000' }, snapshot: big, takenAt: 1 });
      expect(body.length).toBeGreaterThan(1024 * 1024);
      await store.write('detect:events:0', body);
      await store.write('detect:events:1', encodeCheckpoint({ offsets: { events: '5' }, snapshot: { small: true }, takenAt: 2 }));

      const fresh = new CheckpointStore(kafka, producer, topics.checkpoints, 64 * 1024);
      const loaded = await fresh.load(['detect:events:0', 'detect:events:1', 'detect:events:2']);
      expect([...loaded.keys()].sort()).toEqual(['detect:events:0', 'detect:events:1']);
      expect(loaded.get('detect:events:0')).toEqual({ offsets: { events: '1000' }, snapshot: big, takenAt: 1 });

      // A newer checkpoint replaces it (and goes to the other slot)...
      await fresh.write('detect:events:0', encodeCheckpoint({ offsets: { events: '2000' }, snapshot: { newer: true }, takenAt: 3 }));
      // ...and a crash after some chunks of the next one, before its manifest, leaves that checkpoint in force.
      await producer.send({
        topic: topics.checkpoints,
        compression: CompressionTypes.None,
        messages: [{ key: 'detect:events:0#0#0', value: '{"offsets":{"events":"9999"},"sna', headers: { 'fairuse-checkpoint': 'torn' } }],
      });
      // A forged manifest that is not one is ignored too.
      await producer.send({ topic: topics.checkpoints, messages: [{ key: 'detect:events:1', value: '{"id":1}' }] });
      const after = await new CheckpointStore(kafka, producer, topics.checkpoints, 64 * 1024).load(['detect:events:0', 'detect:events:1']);
      expect(after.get('detect:events:0')).toEqual({ offsets: { events: '2000' }, snapshot: { newer: true }, takenAt: 3 });
      expect(after.get('detect:events:1')?.offsets).toEqual({ events: '5' });
    } finally {
      await producer.disconnect();
    }
  });
});
