import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { deleteDeadLettersBefore } from '../adapters/elastic/retention.js';
import { recomputePoints } from '../adapters/elastic/points.js';
import { openElasticSupport, type ElasticSupport } from '../adapters/elastic/stack.js';
import type { TokenAuthenticator } from '../adapters/http/auth.js';
import { createApiServer } from '../adapters/http/server.js';
import type { Policy } from '../policy/schema.js';
import { parseSince } from './cases.js';
import type { SupportConfig } from './config.js';
import { EntitlementService } from './entitlement.js';
import { writeExportFile } from './export.js';
import { JobScheduler, type JobRun } from './jobs.js';

export interface SupportService {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  server: Server;
  es: ElasticSupport;
  entitlements: EntitlementService;
  jobs: JobScheduler;
  close(): Promise<void>;
}

export interface SupportServiceOptions {
  config: SupportConfig;
  esUrl: string;
  policy: Policy;
  tokens: TokenAuthenticator;
  logger: Logger;
  now?: () => number;
  /** Start the cron schedules (default true); tests run jobs with runNow instead. */
  schedule?: boolean;
  onJobFailure?(run: JobRun): void;
}

/** `fairuse serve`: the HTTP API plus the scheduled jobs, against one Elasticsearch. */
export async function startSupportService(opts: SupportServiceOptions): Promise<SupportService> {
  const { config, logger } = opts;
  const now = opts.now ?? Date.now;
  let entitlements: EntitlementService | undefined;
  const es = await openElasticSupport({
    url: opts.esUrl,
    indexPrefix: config.elasticsearch.indexPrefix,
    policy: opts.policy.enforcement,
    logger,
    now,
    onCaseChange: (id) => entitlements?.invalidate(id),
  });
  entitlements = new EntitlementService(es.entitlementSource, { ttlMs: config.http.entitlementTtl, now });
  const jobs = supportJobs(es, opts, now);

  const server = createApiServer({
    deps: { queries: es.queries, gateway: es.gateway, entitlements, audit: es.audit, maxPageSize: config.http.maxPageSize, now },
    tokens: opts.tokens,
    logger,
    maxBodyBytes: config.http.maxBodyBytes,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  if (opts.schedule !== false) jobs.start();
  return {
    url: `http://${host}:${port}`,
    server,
    es,
    entitlements,
    jobs,
    close: async () => {
      await jobs.stop();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await es.close();
    },
  };
}

/** The jobs named in the config: case export, points recomputation, dead-letter retention. */
function supportJobs(es: ElasticSupport, opts: SupportServiceOptions, now: () => number): JobScheduler {
  const { jobs: cfg } = opts.config;
  const scheduler = new JobScheduler(opts.logger, opts.onJobFailure ? { onFailure: opts.onJobFailure } : {});
  const exportCases = async (e: NonNullable<typeof cfg.export>) => {
    const since = parseSince(e.since, now());
    if (since === undefined) throw new Error(`jobs.export.since: invalid "${e.since}"`);
    await mkdir(e.dir, { recursive: true });
    const file = join(e.dir, `cases-${new Date(now()).toISOString().replaceAll(':', '')}.${e.format}`);
    const filter = { ...(e.status === 'all' ? {} : { status: e.status }), updatedSince: since };
    return { file, cases: await writeExportFile(es.queries.scan(filter), e.format, file) };
  };
  const jobs: Array<[string, { cron: string; retries: number } | undefined, () => Promise<Record<string, unknown>>]> = [
    ['export', cfg.export, () => exportCases(cfg.export!)],
    ['recompute-points', cfg.recomputePoints, async () => ({ ...(await recomputePoints(es.client, es.names, es.ledger, opts.policy.enforcement, now())) })],
    ['dead-letter-retention', cfg.deadLetterRetention, async () => ({ deleted: await deleteDeadLettersBefore(es.client, es.names, now() - cfg.deadLetterRetention!.olderThan) })],
  ];
  for (const [name, schedule, run] of jobs) if (schedule) scheduler.add({ name, cron: schedule.cron, retries: schedule.retries, run });
  return scheduler;
}
