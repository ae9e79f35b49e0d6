import type { Client } from '@elastic/elasticsearch';
import type { AuditEntry, AuditLog, AuditTrail } from '../../support/audit.js';
import { DEFAULT_BACKOFF, sendBulk, withRetry } from './bulk.js';
import type { IndexNames } from './indexes.js';
import { bulkOpOf } from './records.js';

/**
 * The audit trail, append-only: each entry is a `create` under a fresh id, awaited, so a request is only answered
 * once its audit line is stored, and visible to search (refresh wait_for), so the case page shows the action just
 * taken. A few retries ride out a blip; a longer outage fails the request instead.
 */
export class ElasticAuditLog implements AuditLog, AuditTrail {
  constructor(
    private readonly client: Client,
    private readonly names: IndexNames,
  ) {}

  async append(entry: AuditEntry): Promise<void> {
    const op = bulkOpOf({ kind: 'audit', value: entry }, this.names, Date.now());
    const [outcome] = await withRetry(() => sendBulk(this.client, [op], 'wait_for'), { backoff: DEFAULT_BACKOFF, attempts: 5 });
    if (outcome?.kind === 'rejected' || outcome?.kind === 'retry') throw new Error(`audit entry not stored: ${outcome.error}`);
  }

  async forAccount(accountId: string, limit: number): Promise<AuditEntry[]> {
    // The newest `limit`, handed back oldest first as a timeline.
    const res = await this.client.search<AuditEntry>({ index: this.names.audit, query: { term: { accountId } }, size: limit, sort: [{ at: 'desc' }, { auditId: 'desc' }] });
    return res.hits.hits.map((h) => h._source!).reverse();
  }
}
