import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDoc } from '../../src/adapters/elastic/case-doc.js';
import { ElasticSink } from '../../src/adapters/elastic/sink.js';
import { EXPORT_COLUMNS } from '../../src/support/export.js';
import { T0 } from '../support/events.js';
import { dropTestIndexes, parseCsv, startTestApi, strike, testPrefix, type TestApi } from '../support/elasticsearch.js';

const prefix = testPrefix('jobs');
const DAY = 86_400_000;

describe('scheduled support jobs against Elasticsearch', () => {
  let api: TestApi;
  let clock = T0 + DAY;
  let exportDir: string;

  beforeAll(async () => {
    exportDir = await mkdtemp(join(tmpdir(), 'fairuse-export-'));
    api = await startTestApi({
      prefix,
      now: () => clock,
      config: {
        jobs: {
          export: { cron: '0 6 * * *', status: 'all', since: '30d', format: 'csv', dir: exportDir, retries: 0 },
          recomputePoints: { cron: '*/15 * * * *' },
          deadLetterRetention: { cron: '30 3 * * *', olderThan: '30d' },
        },
      },
    });
    // Cases with 12 points (paused), 4 points in two strikes a day apart, and hostile account ids from upstream.
    await api.es.ledger.apply([
      ...[0, 1, 2].map((i) => ({ kind: 'strike' as const, strike: strike('acc-job-paused', `stk-jp-${i}`, T0 + i * 1000, 4) })),
      { kind: 'strike', strike: strike('acc-job-active', 'stk-ja-0', T0, 2) },
      { kind: 'strike', strike: strike('acc-job-active', 'stk-ja-1', T0 + DAY, 2) },
      { kind: 'strike', strike: strike('=HYPERLINK("http://x")', 'stk-jh-0', T0, 1) },
      { kind: 'strike', strike: strike('acc,comma "quoted"\nnewline ünï 账户', 'stk-jh-1', T0, 1) },
    ]);
    await api.es.client.indices.refresh({ index: api.es.names.cases });
  });
  afterAll(async () => {
    await api?.close();
    await dropTestIndexes(prefix);
  });

  const caseDoc = async (id: string) => (await api.es.client.get<CaseDoc>({ index: api.es.names.cases, id }))._source!;

  it('recomputes case points as strikes fall out of the lookback, without touching status', async () => {
    clock = T0 + DAY;
    const unchanged = await api.jobs.runNow('recompute-points');
    expect(unchanged).toMatchObject({ outcome: 'ok', result: { updated: 0 } });

    clock = T0 + 7 * DAY + 5000; // the first day's strikes are past the 7-day lookback; the second day's still count
    const run = await api.jobs.runNow('recompute-points');
    expect(run).toMatchObject({ outcome: 'ok', result: { updated: 4, conflicts: 0 } });
    expect(await caseDoc('acc-job-paused')).toMatchObject({ status: 'paused', points: 0, pointsAsOf: new Date(clock).toISOString() });
    expect(await caseDoc('acc-job-active')).toMatchObject({ status: 'active', points: 2 });
  });

  it('deletes dead letters older than the retention period and keeps the rest', async () => {
    const now = Date.now();
    const write = async (at: number, n: number, tag: string) => {
      const sink = new ElasticSink(api.es.client, { names: api.es.names, now: () => at, logger: pino({ level: 'silent' }) });
      for (let i = 0; i < n; i++) await sink.write({ kind: 'dead-letter', value: { reason: 'not-json', detail: `${tag} ${i}`, raw: `raw ${tag} ${i}` } });
      await sink.flush();
    };
    await write(now - 45 * DAY, 30, 'old');
    await write(now - 2 * DAY, 5, 'recent');
    await api.es.client.indices.refresh({ index: api.es.names.deadLetters });
    clock = now;
    const run = await api.jobs.runNow('dead-letter-retention');
    expect(run).toMatchObject({ outcome: 'ok', result: { deleted: 30 } });
    await api.es.client.indices.refresh({ index: api.es.names.deadLetters });
    const left = await api.es.client.search<{ detail: string }>({ index: api.es.names.deadLetters, size: 100 });
    expect(left.hits.hits.map((h) => h._source!.detail).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `recent ${i}`));
  });

  it('exports a CSV whose rows are exactly the cases in the index, spreadsheet-safe', async () => {
    clock = T0 + 2 * DAY;
    const run = await api.jobs.runNow('export');
    expect(run.outcome).toBe('ok');
    const files = await readdir(exportDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^cases-.*\.csv$/);
    const text = await readFile(join(exportDir, files[0]!), 'utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    const [header, ...rows] = parseCsv(text.slice(1));
    expect(header).toEqual([...EXPORT_COLUMNS]);

    const all = await api.es.client.search<CaseDoc>({ index: api.es.names.cases, size: 100, sort: [{ accountId: 'asc' }] });
    const expected = all.hits.hits.map(({ _source: c }) => [
      /^[=+\-@]/.test(c!.accountId) ? `'${c!.accountId}` : c!.accountId,
      c!.status,
      String(c!.points),
      c!.rules.join('|'),
      String(c!.strikeCount),
      c!.firstStrikeAt ?? '',
      c!.lastStrikeAt ?? '',
      c!.appeal.status,
      c!.updatedAt,
    ]);
    expect(rows).toEqual(expected);
    expect(rows.map((r) => r[0])).toContain(`'=HYPERLINK("http://x")`);
    expect(rows.map((r) => r[0])).toContain('acc,comma "quoted"\nnewline ünï 账户');
  });

  it('a failing run is retried and then reported as failed', async () => {
    const flaky = { attempts: 0 };
    api.jobs.add({
      name: 'always-fails',
      cron: '0 0 1 1 *',
      retries: 2,
      retryDelayMs: 10,
      run: async () => {
        flaky.attempts++;
        throw new Error('Elasticsearch said no');
      },
    });
    const run = await api.jobs.runNow('always-fails');
    expect(run).toMatchObject({ outcome: 'failed', attempts: 3, error: 'Elasticsearch said no' });
    expect(flaky.attempts).toBe(3);
  });
});
