import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseLedger } from '../../src/adapters/elastic/case-ledger.js';
import { caseOf, type CaseDoc } from '../../src/adapters/elastic/case-doc.js';
import { elasticClient } from '../../src/adapters/elastic/client.js';
import { indexRun } from '../../src/adapters/elastic/index-run.js';
import { ensureIndexes, indexNames } from '../../src/adapters/elastic/indexes.js';
import { ElasticSink } from '../../src/adapters/elastic/sink.js';
import { Case } from '../../src/contract/outputs.js';
import { T0, ev } from '../support/events.js';
import { botEvents, defaultPolicy, dropTestIndexes, embeddedRun, esUrl, strike, testPrefix } from '../support/elasticsearch.js';

const prefix = testPrefix('index');
const names = indexNames(prefix);
const silent = pino({ level: 'silent' });

describe('indexing an embedded run into Elasticsearch', () => {
  let client: Client;
  let ledger: CaseLedger;
  let run: Awaited<ReturnType<typeof embeddedRun>>;

  const counts = async () => {
    await client.indices.refresh({ index: Object.values(names) });
    return Object.fromEntries(await Promise.all(Object.entries(names).map(async ([k, index]) => [k, (await client.count({ index })).count] as const)));
  };
  const load = async () => {
    const sink = new ElasticSink(client, { names, logger: silent });
    return indexRun(run.dir, { sink, ledger });
  };

  beforeAll(async () => {
    client = elasticClient(await esUrl());
    await ensureIndexes(client, names);
    ledger = new CaseLedger(client, names, (await defaultPolicy()).enforcement, { logger: silent });
    // A bot suspended within hours, one paused after 20 minutes, a heavy user past the daily Fast quota, bad lines.
    const human = Array.from({ length: 320 }, (_, i) => ev(i * 60, { accountId: 'acc-idx-heavy', deviceId: 'd-h', speed: 'fast' }).event);
    run = await embeddedRun([...botEvents('acc-idx-bot', 0, 240), ...botEvents('acc-idx-pause', 600, 20), ...human], ['not json', '{"eventId":"x"}']);
  });
  afterAll(async () => {
    await client?.close();
    await dropTestIndexes(prefix);
  });

  it('indexes every record of the run', async () => {
    const stats = await load();
    expect(stats.sink.rejected).toBe(0);
    const c = await counts();
    const lines = async (file: string) => (await readFile(join(run.dir, file), 'utf8')).split('\n').filter(Boolean).length;
    expect(c).toEqual({
      cases: await lines('cases.ndjson'),
      strikes: await lines('strikes.ndjson'),
      transitions: await lines('transitions.ndjson'),
      speedDecisions: await lines('quota.ndjson'),
      deadLetters: 2,
      audit: 0,
    });
    expect(c.speedDecisions).toBeGreaterThan(0);
    expect(run.summary.accounts.paused).toBeGreaterThan(0);
    expect(run.summary.accounts.suspended).toBeGreaterThan(0);
  });

  it('re-indexing the same run (a replay) creates no duplicates and changes no case', async () => {
    const before = await counts();
    const { _seq_no: seqBefore } = await client.get({ index: names.cases, id: 'acc-idx-bot' });
    const stats = await load();
    expect(stats.sink.written).toBe(0);
    expect(stats.sink.duplicates).toBe(before.strikes! + before.transitions! + before.speedDecisions! + before.deadLetters!);
    expect(stats.cases).toMatchObject({ written: 0, unchanged: before.cases });
    expect(await counts()).toEqual(before);
    expect((await client.get({ index: names.cases, id: 'acc-idx-bot' }))._seq_no).toBe(seqBefore);
  });

  it("stores the run's own cases, plus the standing to continue from", async () => {
    const expected = (await readFile(join(run.dir, 'cases.ndjson'), 'utf8')).split('\n').filter(Boolean).map((l) => Case.parse(JSON.parse(l)));
    for (const c of expected) {
      const doc = (await client.get<CaseDoc>({ index: names.cases, id: c.accountId }))._source!;
      expect(caseOf(doc)).toEqual(c);
      expect(doc.standing).toMatchObject({ accountId: c.accountId, status: c.status });
      expect(doc.strikeCount).toBe(c.strikes.length);
    }
  });

  it('concurrent writers to one case lose no update (optimistic concurrency)', async () => {
    const policy = (await defaultPolicy()).enforcement;
    // Eight independent ledgers stand for eight processes; each applies its own strikes at the same moment.
    const writers = Array.from({ length: 8 }, () => new CaseLedger(client, names, policy));
    const results = await Promise.all(
      writers.map((w, i) => w.apply([0, 1].map((j) => ({ kind: 'strike' as const, strike: strike('acc-idx-race', `stk-race-${i}-${j}`, T0 + (i * 2 + j) * 1000, 1) })))),
    );
    const doc = (await client.get<CaseDoc>({ index: names.cases, id: 'acc-idx-race' }))._source!;
    expect(doc.strikes.map((s) => s.strikeId).sort()).toEqual(writers.flatMap((_, i) => [`stk-race-${i}-0`, `stk-race-${i}-1`]).sort());
    expect(doc.points).toBe(16);
    expect(results.reduce((n, r) => n + r.conflicts, 0)).toBeGreaterThan(0);
  });

  it('a record that does not fit the strict mapping is refused, not silently indexed', async () => {
    const refused: string[] = [];
    const sink = new ElasticSink(client, { names, logger: silent, onRejected: (rec) => refused.push(rec.kind) });
    const bad = { ...strike('acc-idx-x', 'stk-bad-field', T0, 1), surprise: 'field' };
    await sink.write({ kind: 'strike', value: bad });
    await sink.flush();
    expect(sink.stats).toMatchObject({ written: 0, rejected: 1 });
    expect(refused).toEqual(['strike']);
  });
});
