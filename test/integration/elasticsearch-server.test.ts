import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { esUrl } from '../support/elasticsearch.js';

// Unique per run so that parallel runs against a shared ES_URL do not collide.
const index = `it-es-server-${process.pid}-${Date.now()}`;
const DOCS = 50;

interface Doc {
  userId: string;
  kind: 'generation' | 'strike';
  count: number;
  at: string;
}

const docs: Array<Doc & { id: string }> = Array.from({ length: DOCS }, (_, i) => ({
  id: `evt-${i}`,
  userId: `user-${i % 5}`,
  kind: i % 10 === 0 ? 'strike' : 'generation',
  count: i,
  at: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
}));

describe('Elasticsearch dev server', () => {
  let client: Client;

  // Generous: without ES_URL this may download (first run) and start Elasticsearch.
  beforeAll(async () => {
    client = new Client({ node: await esUrl() });
  }, 240_000);

  afterAll(async () => {
    await client?.indices.delete({ index, ignore_unavailable: true });
    await client?.close();
  });

  const bulkIndex = () =>
    client.bulk({
      operations: docs.flatMap(({ id, ...doc }) => [{ index: { _index: index, _id: id } }, doc]),
    });

  it('is healthy', async () => {
    const health = await client.cluster.health({ wait_for_status: 'yellow', timeout: '30s' });
    expect(['yellow', 'green']).toContain(health.status);
  });

  it('creates an index with an explicit mapping', async () => {
    await client.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: {
        dynamic: 'strict',
        properties: {
          userId: { type: 'keyword' },
          kind: { type: 'keyword' },
          count: { type: 'integer' },
          at: { type: 'date' },
        },
      },
    });
    const mapping = await client.indices.getMapping({ index });
    expect(mapping[index]?.mappings.properties?.userId).toEqual({ type: 'keyword' });
  });

  it('bulk-indexes, refreshes and searches', async () => {
    const res = await bulkIndex();
    expect(res.errors).toBe(false);
    expect(res.items.every((item) => item.index?.result === 'created')).toBe(true);
    await client.indices.refresh({ index });

    expect((await client.count({ index })).count).toBe(DOCS);
    const strikes = await client.search<Doc>({
      index,
      query: { term: { kind: 'strike' } },
      sort: [{ count: 'asc' }],
      aggs: { users: { terms: { field: 'userId' } } },
      track_total_hits: true,
    });
    expect(strikes.hits.total).toEqual({ value: 5, relation: 'eq' });
    expect(strikes.hits.hits.map((h) => h._id)).toEqual(['evt-0', 'evt-10', 'evt-20', 'evt-30', 'evt-40']);
    const recent = await client.search({ index, query: { range: { at: { gte: '2025-01-01T00:40:00Z' } } }, size: 0 });
    expect(recent.hits.total).toEqual({ value: 10, relation: 'eq' });
  });

  it('re-indexing the same ids is idempotent', async () => {
    const res = await bulkIndex();
    expect(res.errors).toBe(false);
    expect(res.items.every((item) => item.index?.result === 'updated')).toBe(true);
    await client.indices.refresh({ index });
    expect((await client.count({ index })).count).toBe(DOCS);
  });
});
