import type { KafkaMessage, Message, TopicMessages } from 'kafkajs';
import type { RuleSet } from '../../rules/ruleset.js';
import { BUNDLE_SEAL_BYTES, BundleWriter, type Observation } from './repartition.js';

export const STAGES = ['detect', 'fanout', 'enforce'] as const;
export type StageName = (typeof STAGES)[number];

/** One partition's worth of a stage: engine state plus what turns messages into outputs. */
export interface StageTask {
  /**
   * Handles one message of an input topic, pushing its outputs (synchronously: the engine is synchronous). A stage
   * that aligns partitions leaves a message whose event time would take it past `limit` alone and returns that time.
   */
  handle(topic: string, partition: number, message: KafkaMessage, limit: number): number | undefined;
  snapshot(): unknown;
  restore(snapshot: unknown): void;
  /** Entries held, by kind, for the state-size gauge. */
  stateSize(): Record<string, number>;
  /** How far in event time the task has got (for stages that align their partitions in event time). */
  eventTime?(): number;
  /** Swaps in a reloaded rule set between two messages (stages that run rules). */
  replaceRules?(rules: RuleSet): void;
}

export interface Stage {
  readonly name: StageName;
  /** Input topics; several are co-partitioned and share one task per partition number. */
  readonly inputs: readonly string[];
  /**
   * Keep this worker's partitions within this much event time of each other while they have a backlog: a partition
   * that runs ahead is paused until the slowest catches up, so what they republish stays roughly in time order.
   */
  readonly alignWithin?: number;
  newTask(partition: number, out: Outputs): StageTask;
  /**
   * Takes a reloaded rule set for the tasks created from now on; returns why it cannot be applied live (then nothing
   * changes), e.g. a new device/IP grouping that the repartition topic does not carry yet.
   */
  replaceRules?(rules: RuleSet): string | undefined;
}

/**
 * One topic's messages in one send: kafkajs puts a partition's messages in one record batch, which must stay below
 * the broker's default 1 MiB `message.max.bytes` even if they all share a key (dead letters of one account's junk).
 */
const TOPIC_BYTES = 768 * 1024;

/**
 * Output messages waiting to be sent. They are sent, and acknowledged by the brokers, before the input offsets that
 * produced them may be checkpointed or committed.
 */
export class Outputs {
  private byTopic = new Map<string, Message[]>();
  private topicBytes = new Map<string, number>();
  /** Bundles being filled, by topic and partition: each goes out as one message. */
  private bundles = new Map<string, Map<number, BundleWriter>>();
  private count = 0;
  private bytes = 0;
  /** A bundle reached its seal size, or one topic's messages the size of a record batch. */
  private due = false;

  constructor(private readonly limit: { messages: number; bytes: number }) {}

  push(topic: string, message: Message): void {
    this.messagesOf(topic).push(message);
    const size = message.value === null ? 0 : Buffer.byteLength(message.value);
    const topicBytes = (this.topicBytes.get(topic) ?? 0) + size;
    this.topicBytes.set(topic, topicBytes);
    this.count++;
    this.bytes += size;
    if (topicBytes >= TOPIC_BYTES) this.due = true;
  }

  /** Adds an observation to the bundle bound for `partition` of `topic`, after those added before it. */
  bundle(topic: string, partition: number, observation: Observation): void {
    let writers = this.bundles.get(topic);
    if (!writers) this.bundles.set(topic, (writers = new Map()));
    let writer = writers.get(partition);
    if (!writer) {
      writers.set(partition, (writer = new BundleWriter()));
      this.count++;
    }
    const before = writer.bytes;
    writer.add(observation);
    this.bytes += writer.bytes - before;
    if (writer.bytes >= BUNDLE_SEAL_BYTES) this.due = true;
  }

  /** Past the bound, or a bundle or one topic's messages as large as a send may carry: send before reading on. */
  get full(): boolean {
    return this.due || this.count >= this.limit.messages || this.bytes >= this.limit.bytes;
  }

  /** Everything pushed so far, bundles sealed, leaving the buffer empty. */
  take(): TopicMessages[] {
    for (const [topic, writers] of this.bundles) {
      const messages = this.messagesOf(topic);
      for (const [partition, writer] of writers) messages.push({ partition, key: null, value: writer.seal() });
    }
    const topicMessages = [...this.byTopic].map(([topic, messages]) => ({ topic, messages }));
    this.byTopic = new Map();
    this.topicBytes = new Map();
    this.bundles = new Map();
    this.count = 0;
    this.bytes = 0;
    this.due = false;
    return topicMessages;
  }

  private messagesOf(topic: string): Message[] {
    let list = this.byTopic.get(topic);
    if (!list) this.byTopic.set(topic, (list = []));
    return list;
  }
}
