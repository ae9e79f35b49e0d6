import type { Client } from '@elastic/elasticsearch';
import { sendBulk, withRetry } from './bulk.js';
import type { IndexNames } from './indexes.js';

const BATCH = 1000;

/**
 * Deletes dead letters indexed before `before`, in batches of ids found by a range query. Equivalent to a
 * `_delete_by_query`, which the dev node lacks (its distribution has no reindex module); safe to interrupt and rerun.
 */
export async function deleteDeadLettersBefore(client: Client, names: IndexNames, before: number): Promise<number> {
  const query = { range: { indexedAt: { lt: new Date(before).toISOString() } } };
  let deleted = 0;
  for (;;) {
    const res = await withRetry(() => client.search({ index: names.deadLetters, query, size: BATCH, _source: false, sort: ['_doc'] }));
    const ids = res.hits.hits.map((h) => h._id!);
    if (ids.length === 0) return deleted;
    const outcomes = await withRetry(() => sendBulk(client, ids.map((id) => ({ op: 'delete', index: names.deadLetters, id })), true));
    const failed = outcomes.find((o) => o.kind !== 'ok');
    if (failed) throw new Error(`deleting dead letters failed: ${'error' in failed ? failed.error : failed.kind}`);
    deleted += ids.length;
  }
}
