import { createReadStream } from 'node:fs';
import { Option, type Command } from 'commander';
import { Partitioners, type Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { createKafka, createLogger } from '../../adapters/kafka/client.js';
import { configFromEnv, ENV_KEYS, KafkaConfigError, readConfigFile, resolveKafkaConfig, splitBrokers, type KafkaConfig } from '../../adapters/kafka/config.js';
import { exportTopic } from '../../adapters/kafka/export.js';
import { produceEvents } from '../../adapters/kafka/produce.js';
import { STAGES, type StageName } from '../../adapters/kafka/stage.js';
import { createPipelineTopics, EXPORTABLE, topicsOf, type ExportableTopic } from '../../adapters/kafka/topics.js';
import { startWorker } from '../../adapters/kafka/worker.js';
import { loadPolicy } from '../../policy/load.js';
import { loadRuleDir } from '../../rules/load.js';
import { watchRules } from '../../rules/reload.js';
import { DEFAULT_POLICY_FILE, DEFAULT_RULES_DIR } from '../defaults.js';
import { wholeNumber } from '../options.js';

interface ConnectionFlags {
  brokers?: string;
  config?: string;
  topicPrefix?: string;
}

const CONFIG_HELP = `
Settings come from (later wins) defaults, --config FILE (YAML or JSON), environment variables, then flags.
Config file keys: brokers, clientId, topicPrefix, eventsTopic, commandsTopic, partitions, replicationFactor,
  ssl (true | { caFile, certFile, keyFile, rejectUnauthorized, servername }),
  sasl ({ mechanism: plain|scram-sha-256|scram-sha-512, username, password }), connectionTimeoutMs,
  consumer.{sessionTimeoutMs, heartbeatIntervalMs, rebalanceTimeoutMs, maxBytesPerPartition, maxBytes, maxWaitMs},
  checkpoint.{intervalMs, chunkBytes}, fanout.allowedSkew (e.g. 6h), metrics.{port, host}, logLevel.
Environment:
${Object.entries(ENV_KEYS)
  .map(([k, v]) => `  ${k.padEnd(34)} ${v}`)
  .join('\n')}`;

function connectionOptions(cmd: Command): Command {
  return cmd
    .option('-b, --brokers <list>', 'bootstrap brokers, HOST:PORT[,HOST:PORT...] (or FAIRUSE_KAFKA_BROKERS)')
    .option('-c, --config <file>', 'settings file, YAML or JSON')
    .option('--topic-prefix <prefix>', 'prefix of every topic and consumer group (default "fairuse.")')
    .addHelpText('after', CONFIG_HELP);
}

/** Ends the command with exit code 1 and the message alone: the flags were fine, so no usage help after it. */
function fail(cmd: Command, message: string): never {
  cmd.showHelpAfterError(false);
  cmd.error(message, { exitCode: 1 });
}

/** Reads and validates settings; a mistake ends the command with the list of problems, not a stack trace. */
async function settings(cmd: Command, flags: ConnectionFlags, extra: Record<string, unknown> = {}): Promise<KafkaConfig> {
  try {
    const file = flags.config ? await readConfigFile(flags.config) : {};
    const fromFlags: Record<string, unknown> = { ...extra };
    if (flags.brokers !== undefined) fromFlags.brokers = splitBrokers(flags.brokers);
    if (flags.topicPrefix !== undefined) fromFlags.topicPrefix = flags.topicPrefix;
    return resolveKafkaConfig(file, configFromEnv(process.env), fromFlags);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof KafkaConfigError || e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') fail(cmd, `fairuse: ${e.message}`);
    throw err;
  }
}

/** Broker trouble (unreachable, refused, misconfigured topics) ends the command with one line, not a stack. */
async function brokerErrors<T>(cmd: Command, config: KafkaConfig, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const e = err as Error;
    if (e.name.startsWith('KafkaJS') || /must have the same number of partitions/.test(e.message)) {
      fail(cmd, `fairuse: Kafka at ${config.brokers.join(',')}: ${e.message}`);
    }
    throw err;
  }
}

/** Runs `work` with a connected client, creating the pipeline's topics first so the first run needs no setup. */
async function withKafka<T>(cmd: Command, config: KafkaConfig, log: Logger, work: (kafka: Kafka) => Promise<T>): Promise<T> {
  return brokerErrors(cmd, config, async () => {
    const kafka = createKafka(config, log);
    await createPipelineTopics(kafka, config);
    return work(kafka);
  });
}

export function register(program: Command): void {
  connectionOptions(
    program
      .command('start')
      .description('run the Kafka pipeline: detect, fanout and enforce consumer groups (all in this process by default)')
      .addOption(new Option('-s, --stage <stage>', 'stage to run').choices([...STAGES, 'all']).default('all'))
      .option('-r, --rules <dir>', 'rule directory', DEFAULT_RULES_DIR)
      .option('-p, --policy <file>', 'policy file', DEFAULT_POLICY_FILE)
      .option('--metrics-port <port>', 'port of /healthz and /metrics (0 picks a free one)', wholeNumber(0, 65_535)),
  ).action(async (o: ConnectionFlags & { stage: StageName | 'all'; rules: string; policy: string; metricsPort?: number }, cmd: Command) => {
    const config = await settings(cmd, o, o.metricsPort === undefined ? {} : { metrics: { port: o.metricsPort } });
    const [rules, policy] = await Promise.all([loadRuleDir(o.rules), loadPolicy(o.policy)]);
    const log = createLogger(config.logLevel);
    let fatal: Error | undefined;
    let wake!: () => void;
    const stopRequested = new Promise<void>((resolve) => (wake = resolve));
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'stopping: checkpointing and committing');
      process.once(signal, () => process.exit(130)); // a second signal means now
      wake();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    const worker = await brokerErrors(cmd, config, () =>
      startWorker({
        config,
        rules,
        policy,
        log,
        stages: o.stage === 'all' ? STAGES : [o.stage],
        onFatal: (err) => {
          fatal = err;
          wake();
        },
      }),
    );
    // The security team's rule changes go live without a restart: validated and tested first, else refused.
    const versions = (set: typeof rules) => set.rules.map((r) => `${r.spec.id}@${r.version}`).join(',');
    let running = versions(rules);
    const unwatch = watchRules(
      o.rules,
      policy,
      (next) => {
        // The watcher also reports the set it starts with, and files touched without a change: nothing to swap.
        if (versions(next) === running) return;
        const refused = worker.replaceRules(next);
        if (refused.length === 0) running = versions(next);
        worker.metrics.ruleReloads.inc({ outcome: refused.length === 0 ? 'applied' : 'refused' });
        if (refused.length === 0) log.info({ rules: next.rules.map((r) => `${r.spec.id}@${r.version}`) }, 'rules reloaded');
        else log.error({ reasons: refused }, 'rule reload refused; the previous rules keep running');
      },
      (err) => {
        worker.metrics.ruleReloads.inc({ outcome: 'refused' });
        log.error({ err: err.message }, 'rule reload refused; the previous rules keep running');
      },
    );
    await stopRequested;
    unwatch();
    await worker.stop();
    log.flush();
    if (fatal) fail(cmd, `fairuse start: a consumer crashed and will not restart: ${fatal.message}`);
    // Sockets kafkajs leaves behind must not keep a stopped worker alive.
    setTimeout(() => process.exit(), 2_000).unref();
  });

  connectionOptions(
    program
      .command('produce')
      .description('publish NDJSON generation events to the events topic, keyed by accountId (bad lines go as they are)')
      .requiredOption('-i, --input <file>', 'NDJSON events, or - for stdin'),
  ).action(async (o: ConnectionFlags & { input: string }, cmd: Command) => {
    const config = await settings(cmd, o);
    const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
    const input = o.input === '-' ? process.stdin : createReadStream(o.input);
    const summary = await withKafka(cmd, config, log, async (kafka) => {
      // Idempotent: a retry after a partial failure must not publish events twice (they would come back as late).
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      try {
        return await produceEvents(producer, topicsOf(config).events, input);
      } finally {
        await producer.disconnect();
      }
    });
    console.log(`published ${summary.lines} lines to ${topicsOf(config).events} (${summary.unkeyed} without an accountId key, ${summary.truncated} cut to the line limit)`);
  });

  connectionOptions(
    program
      .command('export')
      .description('write a pipeline topic as NDJSON, read from the beginning to its current end, deduplicated')
      .addOption(new Option('-t, --topic <name>', 'topic to export').choices(Object.keys(EXPORTABLE)).makeOptionMandatory())
      .requiredOption('-o, --out <file>', 'NDJSON file to write'),
  ).action(async (o: ConnectionFlags & { topic: ExportableTopic; out: string }, cmd: Command) => {
    const config = await settings(cmd, o);
    const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
    const summary = await withKafka(cmd, config, log, (kafka) => exportTopic(kafka, topicsOf(config), o.topic, o.out));
    console.log(`exported ${summary.written} records of ${summary.read} read from ${o.topic} to ${o.out}${summary.unreadable ? ` (${summary.unreadable} unreadable skipped)` : ''}`);
  });
}
