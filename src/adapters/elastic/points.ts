import type { Client, estypes } from '@elastic/elasticsearch';
import { Enforcer } from '../../engine/enforcement.js';
import type { EnforcementPolicy } from '../../policy/schema.js';
import { withRetry } from './bulk.js';
import type { CaseDoc } from './case-doc.js';
import type { CaseLedger } from './case-ledger.js';
import type { IndexNames } from './indexes.js';

const PAGE = 500;

export interface PointsRecompute {
  checked: number;
  updated: number;
  /** Cases changed by someone else meanwhile; they are picked up by the next run. */
  conflicts: number;
}

/**
 * Strike points are time-dependent: a strike stops counting once it falls out of the lookback. Case documents
 * store the points as of their last change, so this recomputes them at `now` with the engine's own Enforcer for
 * every case that still has points, and writes the ones that dropped (guarded by seq_no/primary_term).
 */
export async function recomputePoints(client: Client, names: IndexNames, ledger: CaseLedger, policy: EnforcementPolicy, now: number): Promise<PointsRecompute> {
  const enforcer = new Enforcer(policy);
  const stats: PointsRecompute = { checked: 0, updated: 0, conflicts: 0 };
  let after: estypes.SortResults | undefined;
  for (;;) {
    const res = await withRetry(() =>
      client.search<CaseDoc>({
        index: names.cases,
        query: { range: { points: { gt: 0 } } },
        size: PAGE,
        sort: [{ accountId: 'asc' }],
        seq_no_primary_term: true,
        ...(after ? { search_after: after } : {}),
      }),
    );
    for (const hit of res.hits.hits) {
      const doc = hit._source!;
      stats.checked++;
      const points = enforcer.points(doc.standing, now);
      if (points === doc.points || hit._seq_no === undefined || hit._primary_term === undefined) continue;
      const fresh = { ...doc, points, pointsAsOf: new Date(now).toISOString() };
      if (await ledger.replace(doc.accountId, { seqNo: hit._seq_no, primaryTerm: hit._primary_term }, fresh)) stats.updated++;
      else stats.conflicts++;
    }
    if (res.hits.hits.length < PAGE) return stats;
    after = res.hits.hits[res.hits.hits.length - 1]!.sort;
  }
}
