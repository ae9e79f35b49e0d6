import type { Kafka, KafkaMessage } from 'kafkajs';
import { NdjsonWriter } from '../file/ndjson-writer.js';
import { readToEnd } from './reader.js';
import { EXPORTABLE, type ExportableTopic, type Topics } from './topics.js';

/** How records of each topic are identified: by a field of the record, or (compacted topics) by message key. */
const IDENTITY: Record<ExportableTopic, { field: string } | 'key'> = {
  strikes: { field: 'strikeId' },
  'shadow-strikes': { field: 'strikeId' },
  transitions: { field: 'transitionId' },
  quota: { field: 'decisionId' },
  // A dead letter's source position is the same on every replay of the message it sets aside.
  'dead-letter': { field: 'source' },
  cases: 'key',
  'account-state': 'key',
};

export interface ExportSummary {
  read: number;
  written: number;
  /** Records that were not JSON objects (written by something else): skipped. */
  unreadable: number;
}

/**
 * Writes a topic as NDJSON, read from the beginning to its end offsets at the start: records deduplicated by id,
 * or for compacted topics the latest record per key (a tombstone removes the key).
 */
export async function exportTopic(kafka: Kafka, topics: Topics, name: ExportableTopic, out: string): Promise<ExportSummary> {
  const topic = topics[EXPORTABLE[name]];
  const identity = IDENTITY[name];
  const writer = new NdjsonWriter(out);
  const summary: ExportSummary = { read: 0, written: 0, unreadable: 0 };
  const seen = new Set<string>();
  const latest = new Map<string, unknown>();
  const decode = (m: KafkaMessage): Record<string, unknown> | undefined => {
    try {
      const json: unknown = JSON.parse(m.value!.toString('utf8'));
      if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json as Record<string, unknown>;
    } catch {
      // counted below
    }
    summary.unreadable++;
    return undefined;
  };
  await readToEnd(kafka, topic, (m) => {
    summary.read++;
    if (identity === 'key') {
      const key = m.key?.toString() ?? '';
      if (m.value === null) {
        latest.delete(key);
        return;
      }
      const record = decode(m);
      // Re-inserted so the output lists keys in order of their latest update.
      latest.delete(key);
      if (record) latest.set(key, record);
      return;
    }
    if (m.value === null) return;
    const record = decode(m);
    if (!record) return;
    const id = String(record[identity.field] ?? m.value.toString('utf8'));
    if (seen.has(id)) return;
    seen.add(id);
    writer.write(record);
  }, { afterBatch: async () => (writer.full ? writer.flush() : undefined) });
  for (const record of latest.values()) writer.write(record);
  summary.written = writer.count;
  await writer.close();
  return summary;
}
