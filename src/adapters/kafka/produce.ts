import type { Readable } from 'node:stream';
import type { Message, Producer } from 'kafkajs';
import { MAX_EVENT_BYTES } from '../../contract/event.js';
import { readLines } from '../file/lines.js';
import { accountKeyOf } from './codec.js';

/**
 * Lines longer than this are cut to it before publishing: still oversized for the pipeline (which dead-letters
 * them), yet far below the broker's message limit, and a hostile gigabyte line never sits in memory.
 */
export const MAX_PUBLISHED_LINE = MAX_EVENT_BYTES * 4;

export interface ProduceSummary {
  lines: number;
  /** Lines without a usable accountId go out unkeyed, as-is, for the pipeline to dead-letter. */
  unkeyed: number;
  truncated: number;
}

export interface ProduceOptions {
  /** Messages per produce request; the next request waits for this one's acknowledgement (backpressure). */
  batchMessages?: number;
  batchBytes?: number;
}

/** Publishes NDJSON events keyed by accountId, in input order, reading no faster than the brokers acknowledge. */
export async function produceEvents(producer: Producer, topic: string, input: Readable, opts: ProduceOptions = {}): Promise<ProduceSummary> {
  const maxMessages = opts.batchMessages ?? 1_000;
  const maxBytes = opts.batchBytes ?? 1024 * 1024;
  const summary: ProduceSummary = { lines: 0, unkeyed: 0, truncated: 0 };
  let pending: Message[] = [];
  let bytes = 0;
  const send = async () => {
    if (pending.length === 0) return;
    const messages = pending;
    pending = [];
    bytes = 0;
    await producer.send({ topic, acks: -1, messages });
  };
  for await (const lines of readLines(input, MAX_PUBLISHED_LINE)) {
    for (const line of lines) {
      if (line.text.trim() === '') continue;
      summary.lines++;
      if (line.truncated) summary.truncated++;
      const key = line.truncated ? undefined : accountKeyOf(line.text);
      if (key === undefined) summary.unkeyed++;
      pending.push({ key: key ?? null, value: line.text });
      bytes += line.text.length;
      if (pending.length >= maxMessages || bytes >= maxBytes) await send();
    }
  }
  await send();
  return summary;
}
