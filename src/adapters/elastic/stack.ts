import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import type { EnforcementPolicy } from '../../policy/schema.js';
import { ElasticAuditLog } from './audit-log.js';
import { CaseLedger } from './case-ledger.js';
import { ElasticCaseQueries } from './case-queries.js';
import { elasticClient } from './client.js';
import { ElasticCommandGateway } from './command-gateway.js';
import { ElasticEntitlementSource } from './entitlement-source.js';
import { ensureIndexes, indexNames, type IndexNames } from './indexes.js';
import { ElasticSink, type ElasticSinkOptions } from './sink.js';

/** Everything the support side needs from one Elasticsearch, wired together; indexes are ensured on open. */
export interface ElasticSupport {
  client: Client;
  names: IndexNames;
  sink: ElasticSink;
  ledger: CaseLedger;
  queries: ElasticCaseQueries;
  audit: ElasticAuditLog;
  gateway: ElasticCommandGateway;
  entitlementSource: ElasticEntitlementSource;
  close(): Promise<void>;
}

export interface ElasticSupportOptions {
  url: string;
  indexPrefix?: string;
  policy: EnforcementPolicy;
  logger?: Logger;
  now?: () => number;
  /** After a command changed a case: the API drops the account's cached entitlement. */
  onCaseChange?(accountId: string): void;
  sink?: Omit<ElasticSinkOptions, 'names' | 'logger'>;
}

export async function openElasticSupport(opts: ElasticSupportOptions): Promise<ElasticSupport> {
  const client = elasticClient(opts.url);
  const names = indexNames(opts.indexPrefix);
  try {
    await ensureIndexes(client, names);
  } catch (err) {
    await client.close();
    throw err;
  }
  const logger = opts.logger;
  const sink = new ElasticSink(client, { ...opts.sink, names, ...(logger ? { logger } : {}) });
  const ledger = new CaseLedger(client, names, opts.policy, logger ? { logger } : {});
  const audit = new ElasticAuditLog(client, names);
  const gateway = new ElasticCommandGateway(client, names, ledger, audit, {
    ...(opts.now ? { now: opts.now } : {}),
    onChange: (id) => opts.onCaseChange?.(id),
  });
  return {
    client,
    names,
    sink,
    ledger,
    queries: new ElasticCaseQueries(client, names),
    audit,
    gateway,
    entitlementSource: new ElasticEntitlementSource(client, names),
    close: async () => {
      await sink.close();
      await client.close();
    },
  };
}
