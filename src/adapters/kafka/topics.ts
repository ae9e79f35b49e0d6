import type { Admin, ITopicConfig, Kafka } from 'kafkajs';
import type { KafkaConfig } from './config.js';

/** The topics of one pipeline deployment. Keys are accountId unless noted. */
export interface Topics {
  events: string;
  commands: string;
  /** Internal: bundles of accepted events' observations per shared field (deviceId, ip…), see repartition.ts. */
  repartition: string;
  strikes: string;
  shadowStrikes: string;
  quota: string;
  transitions: string;
  deadLetter: string;
  /** Compacted: the latest case per account. */
  cases: string;
  /** Compacted: the current enforcement state per account, for the platform to materialise. */
  accountState: string;
  /** Compacted: per stage and partition, the latest state snapshot and the offsets it covers. */
  checkpoints: string;
}

/** Names `fairuse export --topic` accepts, and the topic each means. */
export const EXPORTABLE = {
  strikes: 'strikes',
  'shadow-strikes': 'shadowStrikes',
  transitions: 'transitions',
  quota: 'quota',
  cases: 'cases',
  'dead-letter': 'deadLetter',
  'account-state': 'accountState',
} as const satisfies Record<string, keyof Topics>;
export type ExportableTopic = keyof typeof EXPORTABLE;

export function topicsOf(c: KafkaConfig): Topics {
  const p = c.topicPrefix;
  return {
    events: c.eventsTopic ?? `${p}events`,
    commands: c.commandsTopic ?? `${p}commands`,
    repartition: `${p}detect-repartition`,
    strikes: `${p}strikes`,
    shadowStrikes: `${p}shadow-strikes`,
    quota: `${p}quota`,
    transitions: `${p}transitions`,
    deadLetter: `${p}dead-letter`,
    cases: `${p}cases`,
    accountState: `${p}account-state`,
    checkpoints: `${p}checkpoints`,
  };
}

/** Checkpoint record batches hold up to this many bytes (compressed); fetches of that topic are sized to match. */
export const CHECKPOINT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const COMPACT = [{ name: 'cleanup.policy', value: 'compact' }];

export function topicSpecs(c: KafkaConfig, t: Topics): ITopicConfig[] {
  const spec = (topic: string, extra: ITopicConfig['configEntries'] = [], numPartitions = c.partitions): ITopicConfig => ({
    topic,
    numPartitions,
    replicationFactor: c.replicationFactor,
    configEntries: extra,
  });
  return [
    spec(t.events),
    spec(t.commands),
    spec(t.repartition),
    spec(t.strikes),
    spec(t.shadowStrikes),
    spec(t.quota),
    spec(t.transitions),
    spec(t.deadLetter),
    spec(t.cases, COMPACT),
    spec(t.accountState, COMPACT),
    // One partition: checkpoints are written every few seconds per partition and read only on assignment.
    spec(t.checkpoints, [...COMPACT, { name: 'max.message.bytes', value: String(CHECKPOINT_MAX_MESSAGE_BYTES) }], 1),
  ];
}

/** Partition counts that must match for co-partitioned joins (strikes and commands meet in one enforce task). */
const CO_PARTITIONED: Array<Array<keyof Topics>> = [['strikes', 'commands']];

/** Creates missing topics (existing ones are left alone) and checks co-partitioning. */
export async function ensureTopics(admin: Admin, c: KafkaConfig, t: Topics): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topicSpecs(c, t).filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    // A retry after a timeout finds the topics created ("already exists" is not an error to createTopics).
    await retrying(() => admin.createTopics({ topics: missing, waitForLeaders: true }));
    // Leaders are elected before every broker serves them; a produce in that gap fails with NOT_LEADER, and kafkajs'
    // idempotent producer turns the retry into OUT_OF_ORDER_SEQUENCE_NUMBER. Listing offsets waits it out.
    for (const { topic } of missing) await retrying(() => admin.fetchTopicOffsets(topic));
  }
  const { topics } = await retrying(() => admin.fetchTopicMetadata({ topics: [...new Set(CO_PARTITIONED.flat().map((k) => t[k]))] }));
  const count = new Map(topics.map((m) => [m.name, m.partitions.length]));
  for (const group of CO_PARTITIONED) {
    const counts = group.map((k) => `${t[k]}=${count.get(t[k])}`);
    if (new Set(group.map((k) => count.get(t[k]))).size > 1) {
      throw new Error(`topics ${group.map((k) => t[k]).join(' and ')} must have the same number of partitions (${counts.join(', ')})`);
    }
  }
}

/** Connects an admin client just to create the pipeline's topics: every command does this before its real work. */
export async function createPipelineTopics(kafka: Kafka, c: KafkaConfig): Promise<Topics> {
  const t = topicsOf(c);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, c, t);
  } finally {
    await admin.disconnect();
  }
  return t;
}

/** How many partitions a topic has now. */
export async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await retrying(() => admin.fetchTopicMetadata({ topics: [topic] }));
    return topics[0]!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

/** Retries retriable broker errors (leaders moving, topics being created) for up to `timeoutMs`. */
export async function retrying<T>(request: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 100))) {
    try {
      return await request();
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() > deadline) throw err;
    }
  }
}
