import { userInfo } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ZodError } from 'zod';
import { indexRun } from '../../adapters/elastic/index-run.js';
import { openElasticSupport } from '../../adapters/elastic/stack.js';
import { loadTokens, TokenConfigError } from '../../adapters/http/auth.js';
import { loadPolicy } from '../../policy/load.js';
import { auditEntry } from '../../support/audit.js';
import { parseSince, type CaseFilter, type CaseQueries } from '../../support/cases.js';
import { ConfigError, loadSupportConfig } from '../../support/config.js';
import { writeExport, writeExportFile, type ExportFormat } from '../../support/export.js';
import { supportLogger } from '../../support/logger.js';
import { RunCaseQueries, RunOutputError } from '../../support/run-output.js';
import { startSupportService } from '../../support/service.js';
import { DEFAULT_POLICY_FILE } from '../defaults.js';
import { wholeNumber } from '../options.js';

/** Errors people cause (config, tokens, run directories, an unreachable Elasticsearch) end with a message, not a stack. */
function friendly(cmd: Command, fn: () => Promise<void>): Promise<void> {
  return fn().catch((err: unknown) => {
    const known = err instanceof ConfigError || err instanceof TokenConfigError || err instanceof RunOutputError || err instanceof ZodError;
    const unreachable = (err as { name?: string }).name === 'ConnectionError';
    if (!known && !unreachable) throw err;
    cmd.error(`fairuse ${cmd.name()}: ${unreachable ? `cannot reach Elasticsearch (${(err as Error).message})` : (err as Error).message}`, { exitCode: 1 });
  });
}

function since(value: string): string {
  const at = parseSince(value, Date.now());
  if (at === undefined) throw new InvalidArgumentError(`expected a duration such as 7d or 24h, or an ISO date; got "${value}"`);
  return at;
}

const esOption = () => new Option('--es <url>', 'Elasticsearch URL (default: $FAIRUSE_ES_URL or the config file)');
const prefixOption = () => new Option('--index-prefix <prefix>', 'index name prefix (default: $FAIRUSE_INDEX_PREFIX, else fairuse)');

export function register(program: Command): void {
  const serve = program
    .command('serve')
    .description('serve the support API (entitlements, cases, appeals, manual actions, exports) and run the scheduled jobs')
    .addOption(esOption())
    .option('--port <port>', 'HTTP port (default 8080, 0 for any free port)', wholeNumber(0, 65_535))
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('-p, --policy <file>', 'policy file', DEFAULT_POLICY_FILE)
    .option('--config <file>', 'YAML/JSON config (jobs, limits); default $FAIRUSE_CONFIG')
    .addOption(prefixOption())
    .action((o: { es?: string; port?: number; host?: string; policy: string; config?: string; indexPrefix?: string }) =>
      friendly(serve, async () => {
        const config = await loadSupportConfig(o.config);
        if (o.port !== undefined) config.http.port = o.port;
        if (o.host !== undefined) config.http.host = o.host;
        if (o.indexPrefix !== undefined) config.elasticsearch.indexPrefix = o.indexPrefix;
        const esUrl = o.es ?? config.elasticsearch.url;
        if (!esUrl) throw new ConfigError('no Elasticsearch: pass --es URL, set FAIRUSE_ES_URL, or elasticsearch.url in the config');
        const tokens = loadTokens();
        const logger = supportLogger('fairuse-serve');
        const service = await startSupportService({ config, esUrl, policy: await loadPolicy(o.policy), tokens, logger });
        logger.info({ url: service.url, indexPrefix: config.elasticsearch.indexPrefix }, 'support API listening');
        console.log(`fairuse support API on ${service.url} (OpenAPI at ${service.url}/openapi.json)`);
        await new Promise<void>((resolve) => {
          const stop = () => void service.close().then(resolve, resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }),
    );

  const index = program
    .command('index')
    .description("load an embedded run's output directory into Elasticsearch: strikes, speed decisions, dead letters, and cases moved by the run's strikes")
    .requiredOption('--from <dir>', 'output directory of "fairuse run"')
    .addOption(esOption())
    .option('-p, --policy <file>', 'policy file (the one the run used)', DEFAULT_POLICY_FILE)
    .option('-c, --commands <file>', 'the NDJSON support commands file the run was given, if any')
    .addOption(prefixOption())
    .option('--json', 'print the result as JSON')
    .action((o: { from: string; es?: string; policy: string; commands?: string; indexPrefix?: string; json?: boolean }) =>
      friendly(index, async () => {
        const config = await loadSupportConfig();
        const url = o.es ?? config.elasticsearch.url;
        if (!url) throw new ConfigError('no Elasticsearch: pass --es URL or set FAIRUSE_ES_URL');
        const logger = supportLogger('fairuse-index', process.env.FAIRUSE_LOG_LEVEL ?? 'warn');
        const policy = await loadPolicy(o.policy);
        const es = await openElasticSupport({ url, indexPrefix: o.indexPrefix ?? config.elasticsearch.indexPrefix, policy: policy.enforcement, logger });
        try {
          const stats = await indexRun(o.from, { sink: es.sink, ledger: es.ledger, ...(o.commands ? { commandsFile: o.commands } : {}) });
          await es.client.indices.refresh({ index: Object.values(es.names) });
          console.log(
            o.json
              ? JSON.stringify(stats, null, 2)
              : [
                  `indexed ${o.from} into ${es.names.cases.replace(/-cases$/, '')}-*`,
                  `  strikes ${stats.strikes} (+${stats.shadowStrikes} shadow), speed decisions ${stats.speedDecisions}, dead letters ${stats.deadLetters}`,
                  `  cases: ${stats.cases.accounts} accounts, ${stats.cases.written} written, ${stats.cases.unchanged} unchanged; ${stats.newTransitions} new transitions`,
                  `  documents: ${stats.sink.written} new, ${stats.sink.duplicates} already there, ${stats.sink.rejected} rejected, ${stats.sink.retries} retries`,
                ].join('\n'),
          );
        } finally {
          await es.close();
        }
      }),
    );

  const cases = program.command('cases').description('support cases');
  const exportCmd = cases
    .command('export')
    .description('export cases as spreadsheet-safe CSV or NDJSON, from Elasticsearch or from an embedded run')
    .addOption(new Option('--status <status>', 'which cases').choices(['paused', 'suspended', 'all']).default('all'))
    .option('--since <when>', 'only cases updated since: a duration back from now (7d, 24h) or an ISO date', since)
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'ndjson']).default('csv'))
    .option('--out <file>', 'write here (complete or not at all) instead of stdout')
    .addOption(esOption().conflicts('from'))
    .option('--from <dir>', 'output directory of "fairuse run" instead of Elasticsearch')
    .addOption(prefixOption())
    .action((o: { status: 'paused' | 'suspended' | 'all'; since?: string; format: ExportFormat; out?: string; es?: string; from?: string; indexPrefix?: string }) =>
      friendly(exportCmd, async () => {
        const filter: CaseFilter = { ...(o.status === 'all' ? {} : { status: o.status }), ...(o.since ? { updatedSince: o.since } : {}) };
        const run = async (queries: CaseQueries) => (o.out ? writeExportFile(queries.scan(filter), o.format, o.out) : writeExport(queries.scan(filter), o.format, process.stdout));
        if (o.from) {
          const n = await run(new RunCaseQueries(o.from));
          if (o.out) console.error(`${n} cases exported to ${o.out}`);
          return;
        }
        const config = await loadSupportConfig();
        const url = o.es ?? config.elasticsearch.url;
        if (!url) throw new ConfigError('export needs --es URL (or FAIRUSE_ES_URL) or --from DIR');
        const policy = await loadPolicy(DEFAULT_POLICY_FILE);
        const es = await openElasticSupport({ url, indexPrefix: o.indexPrefix ?? config.elasticsearch.indexPrefix, policy: policy.enforcement });
        try {
          // Exports carry account data out of the system: audited like the API's, under the operator's login.
          const detail = `format=${o.format} status=${o.status}${o.since ? ` since=${o.since}` : ''}${o.out ? ` out=${o.out}` : ''}`;
          await es.audit.append(auditEntry({ actor: userInfo().username, role: 'cli' }, Date.now(), { action: 'cases.export', outcome: 'applied', detail }));
          const n = await run(es.queries);
          if (o.out) console.error(`${n} cases exported to ${o.out}`);
        } finally {
          await es.close();
        }
      }),
    );
}
