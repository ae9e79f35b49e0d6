import type { Server } from 'node:http';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Policy } from '../../policy/schema.js';
import type { RuleSet } from '../../rules/ruleset.js';
import { CheckpointStore } from './checkpoint.js';
import { createKafka } from './client.js';
import { redacted, type KafkaConfig } from './config.js';
import { PipelineMetrics, serveOperations } from './metrics.js';
import { StageRunner } from './runner.js';
import type { Stage, StageName } from './stage.js';
import { detectStage } from './stages/detect.js';
import { enforceStage } from './stages/enforce.js';
import { fanoutStage } from './stages/fanout.js';
import { createPipelineTopics, partitionCount, type Topics } from './topics.js';

export interface WorkerOptions {
  config: KafkaConfig;
  rules: RuleSet;
  policy: Policy;
  stages: readonly StageName[];
  log: Logger;
  /** Serve /healthz and /metrics (default true). */
  serve?: boolean;
  /** A stage's consumer crashed and will not restart: the process should stop and be restarted. */
  onFatal?: (err: Error) => void;
}

export interface Worker {
  readonly topics: Topics;
  readonly metrics: PipelineMetrics;
  readonly runners: readonly StageRunner[];
  /** Port of /healthz and /metrics, when served. */
  readonly port: number | undefined;
  /**
   * Swaps a reloaded rule set into every running stage between two messages; rules whose windows did not change keep
   * their state. Returns the reasons of stages that refused it (then those stages keep their rules).
   */
  replaceRules(rules: RuleSet): string[];
  /** Checkpoints and commits what was processed, leaves the groups, flushes and disconnects. */
  stop(): Promise<void>;
}

function buildStage(name: StageName, o: WorkerOptions, topics: Topics, metrics: PipelineMetrics, repartitionPartitions: number): Stage {
  switch (name) {
    case 'detect':
      return detectStage(topics, o.rules, o.policy, o.config.fanout.allowedSkew / 2, metrics, repartitionPartitions);
    case 'fanout':
      return fanoutStage(topics, o.rules, o.policy, o.config.fanout.allowedSkew, metrics);
    case 'enforce':
      return enforceStage(topics, o.policy.enforcement, metrics);
  }
}

export function createOutputProducer(kafka: Kafka): Producer {
  // One request in flight keeps each partition's outputs in send order across retries, which fanout's
  // source-position dedupe relies on; duplicates from retries are dropped downstream by id.
  return kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
}

/** Starts the given stages in this process, sharing one producer, one checkpoint store and one metrics endpoint. */
export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const { config, log } = o;
  const kafka = createKafka(config, log);
  log.info({ config: redacted(config), stages: o.stages }, 'starting Kafka pipeline');
  const topics = await createPipelineTopics(kafka, config);
  // Read once: adding partitions to the repartition topic moves keys to other fanout partitions, which needs a restart anyway.
  const repartitionPartitions = await partitionCount(kafka, topics.repartition);
  const producer = createOutputProducer(kafka);
  // Checkpoints have their own connection, so a large snapshot never queues in front of outputs.
  const checkpointProducer = createOutputProducer(kafka);
  await Promise.all([producer.connect(), checkpointProducer.connect()]);
  const checkpoints = new CheckpointStore(kafka, checkpointProducer, topics.checkpoints, config.checkpoint.chunkBytes);
  const metrics = new PipelineMetrics();
  const runners = o.stages.map(
    (name) => new StageRunner({ kafka, producer, checkpoints, config, metrics, log: log.child({ stage: name }), groupId: `${config.topicPrefix}${name}`, ...(o.onFatal ? { onFatal: o.onFatal } : {}) }, buildStage(name, o, topics, metrics, repartitionPartitions)),
  );
  let server: Server | undefined;
  let port: number | undefined;
  if (o.serve !== false) {
    const health = () => ({
      ok: runners.every((r) => r.healthy),
      detail: { stages: Object.fromEntries(runners.map((r) => [r.stage.name, { healthy: r.healthy, partitions: r.assignedPartitions, unsaved: r.unsaved, lastError: r.lastError }])) },
    });
    ({ server, port } = await serveOperations(metrics, health, config.metrics.port, config.metrics.host));
    log.info({ port }, 'serving /healthz and /metrics');
  }
  await Promise.all(runners.map((r) => r.start()));

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Upstream first, so downstream stages checkpoint everything the upstream ones flushed.
      for (const r of runners) await r.stop();
      await Promise.all([producer.disconnect(), checkpointProducer.disconnect()]);
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      log.info('stopped');
    })());
  const replaceRules = (rules: RuleSet) => runners.flatMap((r) => r.replaceRules(rules) ?? []);
  return { topics, metrics, runners, port, replaceRules, stop };
}
