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
 * Output messages of the batch being processed. They are sent, and acknowledged by the brokers, before the input
 * offsets that produced them may be checkpointed or committed.
 */
export class Outputs {
  private byTopic = new Map<string, Message[]>();
  /** Bundles being filled, by topic and partition: each goes out as one message. */
  private bundles = new Map<string, Map<number, BundleWriter>>();
  private count = 0;
  private bytes = 0;
  private sealDue = false;

  constructor(private readonly limit: { messages: number; bytes: number }) {}

  push(topic: string, message: Message): void {
    this.messagesOf(topic).push(message);
    this.count++;
    this.bytes += message.value === null ? 0 : message.value.length;
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
    if (writer.bytes >= BUNDLE_SEAL_BYTES) this.sealDue = true;
  }

  /** Past the bound, or a bundle is as large as one may grow: the caller flushes before reading further. */
  get full(): boolean {
    return this.sealDue || this.count >= this.limit.messages || this.bytes >= this.limit.bytes;
  }

  /** Everything pushed so far, bundles sealed, leaving the buffer empty. */
  take(): TopicMessages[] {
    for (const [topic, writers] of this.bundles) {
      const messages = this.messagesOf(topic);
      for (const [partition, writer] of writers) messages.push({ partition, key: null, value: writer.seal() });
    }
    const topicMessages = [...this.byTopic].map(([topic, messages]) => ({ topic, messages }));
    this.byTopic = new Map();
    this.bundles = new Map();
    this.count = 0;
    this.bytes = 0;
    this.sealDue = false;
    return topicMessages;
  }

  private messagesOf(topic: string): Message[] {
    let list = this.byTopic.get(topic);
    if (!list) this.byTopic.set(topic, (list = []));
    return list;
  }
}
