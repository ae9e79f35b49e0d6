import type { Client, estypes } from '@elastic/elasticsearch';
import type { Case } from '../../contract/outputs.js';
import type { CaseFilter, CasePage, CaseQueries, CaseSummary } from '../../support/cases.js';
import { caseOf, type CaseDoc } from './case-doc.js';
import type { IndexNames } from './indexes.js';

const SUMMARY_EXCLUDES = ['strikes', 'transitions', 'standing', 'pointsAsOf'];
const SCAN_PAGE = 500;

/**
 * Case lists, reads and exports from the cases index. User input only ever reaches `term`, `range` and `prefix`
 * queries as literal values, never a query string, so no filter can be widened by what is typed into it.
 */
export class ElasticCaseQueries implements CaseQueries {
  constructor(
    private readonly client: Client,
    private readonly names: IndexNames,
  ) {}

  async list(filter: CaseFilter, { page, size }: { page: number; size: number }): Promise<CasePage> {
    const res = await this.client.search<CaseSummary>({
      index: this.names.cases,
      query: queryOf(filter),
      from: (page - 1) * size,
      size,
      sort: [{ updatedAt: 'desc' }, { accountId: 'asc' }],
      _source: { excludes: SUMMARY_EXCLUDES },
      track_total_hits: true,
    });
    const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
    return { total, page, size, cases: res.hits.hits.map((h) => h._source!) };
  }

  async get(accountId: string): Promise<Case | undefined> {
    const res = await this.client.get<CaseDoc>({ index: this.names.cases, id: accountId }, { ignore: [404] });
    return res.found && res._source ? caseOf(res._source) : undefined;
  }

  async *scan(filter: CaseFilter): AsyncIterable<CaseSummary> {
    let after: estypes.SortResults | undefined;
    for (;;) {
      const res = await this.client.search<CaseSummary>({
        index: this.names.cases,
        query: queryOf(filter),
        size: SCAN_PAGE,
        sort: [{ accountId: 'asc' }],
        _source: { excludes: SUMMARY_EXCLUDES },
        ...(after ? { search_after: after } : {}),
      });
      const hits = res.hits.hits;
      for (const h of hits) yield h._source!;
      if (hits.length < SCAN_PAGE) return;
      after = hits[hits.length - 1]!.sort;
    }
  }
}

/** The Elasticsearch twin of matchesFilter() in support/cases.ts. */
export function queryOf(f: CaseFilter): estypes.QueryDslQueryContainer {
  const filter: estypes.QueryDslQueryContainer[] = [];
  if (f.status !== undefined) filter.push({ term: { status: f.status } });
  if (f.rule !== undefined) filter.push({ term: { rules: f.rule } });
  if (f.updatedSince !== undefined) filter.push({ range: { updatedAt: { gte: f.updatedSince } } });
  if (f.accountIdPrefix !== undefined) filter.push({ prefix: { accountId: { value: f.accountIdPrefix, case_insensitive: true } } });
  return { bool: { filter } };
}
