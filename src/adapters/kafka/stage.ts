import type { KafkaMessage, Message, Producer } from 'kafkajs';
import type { RuleSet } from '../../rules/ruleset.js';

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
  private count = 0;
  private bytes = 0;

  constructor(private readonly limit: { messages: number; bytes: number }) {}

  push(topic: string, message: Message): void {
    let list = this.byTopic.get(topic);
    if (!list) this.byTopic.set(topic, (list = []));
    list.push(message);
    this.count++;
    this.bytes += message.value === null ? 0 : message.value.length;
  }

  /** Past the bound: the caller flushes before reading further, so memory per batch stays bounded. */
  get full(): boolean {
    return this.count >= this.limit.messages || this.bytes >= this.limit.bytes;
  }

  async flush(producer: Producer): Promise<void> {
    if (this.count === 0) return;
    const topicMessages = [...this.byTopic].map(([topic, messages]) => ({ topic, messages }));
    this.byTopic = new Map();
    this.count = 0;
    this.bytes = 0;
    await producer.sendBatch({ topicMessages, acks: -1 });
  }
}
