import type { Client } from '@elastic/elasticsearch';
import type { SpeedDecision } from '../../contract/outputs.js';
import type { EntitlementInputs, EntitlementSource } from '../../support/entitlement.js';
import type { CaseDoc } from './case-doc.js';
import type { IndexNames } from './indexes.js';

/** Decisions in force for one account at a time are few (a quota per tool, a throttle, a cap); this is plenty. */
const MAX_DECISIONS = 50;

/** Reads what an entitlement needs in two parallel requests: the case's status and the unexpired speed decisions. */
export class ElasticEntitlementSource implements EntitlementSource {
  constructor(
    private readonly client: Client,
    private readonly names: IndexNames,
  ) {}

  async load(accountId: string, now: number): Promise<EntitlementInputs> {
    const at = new Date(now).toISOString();
    const [c, d] = await Promise.all([
      this.client.get<Pick<CaseDoc, 'status' | 'statusReason'>>(
        { index: this.names.cases, id: accountId, _source_includes: ['status', 'statusReason'] },
        { ignore: [404] },
      ),
      this.client.search<SpeedDecision>({
        index: this.names.speedDecisions,
        size: MAX_DECISIONS,
        query: { bool: { filter: [{ term: { accountId } }, { range: { until: { gt: at } } }, { range: { at: { lte: at } } }] } },
        sort: [{ at: 'desc' }],
      }),
    ]);
    const src = c.found ? c._source : undefined;
    return {
      ...(src ? { status: src.status } : {}),
      ...(src?.statusReason ? { statusReason: src.statusReason } : {}),
      decisions: d.hits.hits.map((h) => h._source!),
    };
  }
}
