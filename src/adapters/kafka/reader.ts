import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { retrying } from './topics.js';

export interface ReadOptions {
  /** Fetch sizes for topics with large records (checkpoints). */
  maxBytesPerPartition?: number;
  maxBytes?: number;
  /** Awaited after each batch: lets a writer drain, so reading goes no faster than writing. */
  afterBatch?: () => Promise<void>;
  /** Give up when no progress is made for this long. */
  idleTimeoutMs?: number;
}

/**
 * Reads a topic from the beginning up to its end offsets as of the call, passing every message to `onMessage` in
 * per-partition order. kafkajs has no manual assignment, so this joins a throwaway consumer group that never commits.
 */
export async function readToEnd(kafka: Kafka, topic: string, onMessage: (message: KafkaMessage, partition: number) => void, opts: ReadOptions = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offsets = await retrying(() => admin.fetchTopicOffsets(topic));
    ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return;

  const consumer = kafka.consumer({
    groupId: `fairuse-reader-${randomUUID()}`,
    maxWaitTimeInMs: 100,
    ...(opts.maxBytesPerPartition ? { maxBytesPerPartition: opts.maxBytesPerPartition } : {}),
    ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}),
  });
  const pending = new Set(ends.keys());
  let lastProgress = Date.now();
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = ends.get(batch.partition);
        if (end === undefined || !pending.has(batch.partition)) return;
        lastProgress = Date.now();
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= end) break;
          onMessage(m, batch.partition);
        }
        await opts.afterBatch?.();
        // Compaction leaves gaps, so progress is judged by the fetch position, not by the last record's offset.
        if (BigInt(batch.lastOffset()) + 1n >= end || BigInt(batch.highWatermark) <= BigInt(batch.lastOffset()) + 1n) {
          pending.delete(batch.partition);
          if (pending.size === 0) finish();
        }
      },
    });
    const idle = opts.idleTimeoutMs ?? 60_000;
    const watch = setInterval(() => {
      if (Date.now() - lastProgress > idle) finish();
    }, 250);
    await done;
    clearInterval(watch);
    if (pending.size > 0) throw new Error(`reading ${topic}: no progress for ${idle} ms on partitions ${[...pending].join(', ')}`);
  } finally {
    await consumer.disconnect();
  }
}
