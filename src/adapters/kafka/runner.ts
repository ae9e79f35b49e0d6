import type { Consumer, EachBatchPayload, IMemberAssignment, Kafka, Producer, TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import type { RuleSet } from '../../rules/ruleset.js';
import { coPartitionedAssigner } from './assigner.js';
import { encodeCheckpoint, type Checkpoint, type CheckpointStore } from './checkpoint.js';
import type { KafkaConfig } from './config.js';
import type { PipelineMetrics } from './metrics.js';
import { Mutex } from './mutex.js';
import { Outputs, type Stage, type StageTask } from './stage.js';
import { retrying } from './topics.js';

/** A partition number's task with its input positions. */
interface Unit {
  readonly partition: number;
  readonly task: StageTask;
  /** Per input topic: the next offset the task's state does not include. */
  readonly next: Map<string, bigint>;
  /** Messages applied so far, and how many of them the latest checkpoint covers. */
  applied: number;
  checkpointed: number;
  checkpointAt: number;
  /**
   * How long the last snapshot took to take and encode (ms): checkpoints of large states are spaced out to keep their
   * share of the event loop small. Waiting for the lock, for acknowledgements or for a slow broker is not counted.
   */
  checkpointCost: number;
  /** Topics already sought back to the checkpoint once (a second time would loop if the log was truncated). */
  readonly sought: Set<string>;
  /** Known to have unread messages (set from each batch's high watermark). */
  behind: boolean;
  /** Paused for running ahead of the others in event time. */
  paused: boolean;
  /** Event time of the message it was paused before: where it really is, when its partition has a gap in time. */
  pendingAt: number | undefined;
}

export interface RunnerDeps {
  kafka: Kafka;
  producer: Producer;
  checkpoints: CheckpointStore;
  config: KafkaConfig;
  metrics: PipelineMetrics;
  log: Logger;
  groupId: string;
  /** Called when the consumer crashed for good: it never joined its group, or could not join it again. */
  onFatal?: (err: Error) => void;
}

/** Checkpoint topic key of a stage's partition (`stage:topic:partition`; co-partitioned topics joined by `+`). */
export function checkpointKey(stage: string, inputs: readonly string[], partition: number): string {
  return `${stage}:${inputs.join('+')}:${partition}`;
}

/** Where a partition stands in event time: the message it waits to apply, else what it has applied. */
function position(unit: Unit): number {
  return unit.pendingAt ?? unit.task.eventTime?.() ?? Number.POSITIVE_INFINITY;
}

/** A partition is checkpointed at most every this many times as long as its last checkpoint took. */
const CHECKPOINT_COST_FACTOR = 20;

/** Output bound per flush: a batch's outputs are sent in pieces of at most this much. */
const OUTPUT_LIMIT = { messages: 5_000, bytes: 4 * 1024 * 1024 };

/**
 * Runs one stage as a consumer group member. Consumption is at-least-once with manual offsets:
 *
 *  1. a batch is applied to the partition's task and its outputs are sent; while a send awaits its acknowledgement,
 *     the next batches are applied and their outputs gather for the next send (one send in flight keeps every
 *     partition's outputs in order, and a busy broker gets fewer, larger requests);
 *  2. every `checkpoint.intervalMs` (longer for states slow to save), once every output sent is acknowledged, the
 *     task's snapshot and input offsets are written to the checkpoint topic;
 *  3. only then are those offsets committed, so a commit never runs ahead of a checkpoint.
 *
 * On every assignment the state of each assigned partition is restored from its checkpoint and messages before the
 * checkpoint's offsets are skipped (or sought back to), so a replay reproduces the same outputs with the same ids.
 * A send that fails for good, or a consumer kafkajs gives up on, makes the runner join its group again as a new
 * member: the state applied since the checkpoints is dropped and replayed, never checkpointed past a lost output.
 */
export class StageRunner {
  private consumer: Consumer;
  /** Whether the current consumer has joined its group: one that crashes before that cannot work at all. */
  private joined = false;
  /** The consumer being replaced by a new one, until that one runs. */
  private replacing: Promise<void> | undefined;
  /** The send in flight, if any; it never rejects (a failure replaces the consumer instead). */
  private inFlight: Promise<void> | undefined;
  /** Messages applied whose outputs are in `out`, waiting for the next send. */
  private waiting = 0;
  private readonly out = new Outputs(OUTPUT_LIMIT);
  private readonly lock = new Mutex();
  /** Units by partition number, resolved once the checkpoints of the assignment are loaded. */
  private units = new Map<number, Promise<Unit>>();
  private readonly ready = new Map<number, Unit>();
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> | undefined;
  private stopping = false;
  /** For /healthz: joined a group and not crashed. */
  healthy = false;
  /** Messages applied whose outputs are acknowledged, and when that last grew (performance.now()). */
  acknowledged = 0;
  lastBatchAt = 0;
  lastError: string | undefined;

  constructor(
    private readonly deps: RunnerDeps,
    readonly stage: Stage,
  ) {
    this.consumer = this.newConsumer();
    const { name } = stage;
    deps.metrics.onScrape(() => {
      for (const unit of this.ready.values()) {
        deps.metrics.checkpointAge.set({ stage: name, partition: unit.partition }, (Date.now() - unit.checkpointAt) / 1000);
      }
    });
  }

  private key(partition: number): string {
    return checkpointKey(this.stage.name, this.stage.inputs, partition);
  }

  /** Hands a reloaded rule set to the stage and to every partition task it runs; returns why it was refused, if it was. */
  replaceRules(rules: RuleSet): string | undefined {
    const refused = this.stage.replaceRules?.(rules);
    if (refused !== undefined) return refused;
    for (const unit of this.units.values()) void unit.then((u) => u.task.replaceRules?.(rules), () => {});
    return undefined;
  }

  private newConsumer(): Consumer {
    const c = this.deps.config.consumer;
    const consumer = this.deps.kafka.consumer({
      groupId: this.deps.groupId,
      partitionAssigners: [coPartitionedAssigner],
      sessionTimeout: c.sessionTimeoutMs,
      heartbeatInterval: c.heartbeatIntervalMs,
      rebalanceTimeout: c.rebalanceTimeoutMs,
      maxBytesPerPartition: c.maxBytesPerPartition,
      maxBytes: c.maxBytes,
      maxWaitTimeInMs: c.maxWaitMs,
    });
    // A replaced consumer may still report while it leaves; only the current one counts.
    consumer.on(consumer.events.GROUP_JOIN, (e) => consumer === this.consumer && this.assigned(e.payload.memberAssignment));
    consumer.on(consumer.events.CRASH, (e) => consumer === this.consumer && this.crashed(e.payload.error, e.payload.restart));
    consumer.on(consumer.events.STOP, () => consumer === this.consumer && (this.healthy = false));
    return consumer;
  }

  async start(): Promise<void> {
    await this.run();
    const every = Math.max(50, Math.min(1_000, this.deps.config.checkpoint.intervalMs / 2));
    this.timer = setInterval(() => void this.checkpointDue(false), every);
  }

  private async run(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.stage.inputs], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.batch(payload),
    });
  }

  private crashed(err: Error, restart: boolean): void {
    this.healthy = false;
    this.lastError = String(err);
    this.deps.log.error({ stage: this.stage.name, err, restart }, 'consumer crashed');
    if (restart || this.stopping) return;
    // kafkajs gives up on some errors of a broker going away (no group coordinator while it shuts down); a consumer
    // that worked before starts over. One that never joined has a problem no retry fixes (settings, access).
    if (this.joined) this.replaceConsumer();
    else this.deps.onFatal?.(err);
  }

  /** Leaves the group and joins it again as a new member: every partition restarts from its checkpoint. */
  private replaceConsumer(): void {
    if (this.replacing || this.stopping) return;
    const old = this.consumer;
    this.consumer = this.newConsumer();
    this.healthy = false;
    this.joined = false;
    this.replacing = (async () => {
      await old.disconnect();
      await this.run();
    })()
      .catch((err: Error) => {
        this.lastError = String(err);
        this.deps.log.error({ stage: this.stage.name, err }, 'could not join the group again');
        this.deps.onFatal?.(err);
      })
      .finally(() => (this.replacing = undefined));
  }

  /** Drops every partition's state and its unsent outputs: batches still running for them send nothing more. */
  private forgetUnits(): number {
    for (const unit of this.ready.values()) this.forgetMetrics(unit);
    this.units = new Map();
    this.ready.clear();
    this.discardOutputs();
    return ++this.generation;
  }

  /** A new generation: every assigned partition restarts from its checkpoint, whoever processed it last. */
  private assigned(assignment: IMemberAssignment): void {
    this.healthy = true;
    this.joined = true;
    const generation = this.forgetUnits();
    const partitions = [...new Set(this.stage.inputs.flatMap((t) => assignment[t] ?? []))].sort((a, b) => a - b);
    // Pauses for alignment belong to the previous generation's units.
    this.consumer.resume(this.stage.inputs.map((topic) => ({ topic })));
    const loading = Promise.all([this.deps.checkpoints.load(partitions.map((p) => this.key(p))), this.logEnds()]);
    for (const partition of partitions) {
      const unit = loading.then(([found, ends]) => this.restore(partition, found.get(this.key(partition)), ends, generation));
      unit.catch(() => undefined); // awaited by the partition's first batch, which reports the failure
      this.units.set(partition, unit);
    }
    this.deps.log.info({ stage: this.stage.name, partitions }, 'partitions assigned');
  }

  /** First and next offset of every input partition: which partitions start with a backlog. */
  private async logEnds(): Promise<Map<string, { low: bigint; high: bigint }>> {
    const ends = new Map<string, { low: bigint; high: bigint }>();
    if (this.stage.alignWithin === undefined) return ends;
    const admin = this.deps.kafka.admin();
    await admin.connect();
    try {
      for (const topic of this.stage.inputs) {
        for (const o of await retrying(() => admin.fetchTopicOffsets(topic))) ends.set(`${topic}:${o.partition}`, { low: BigInt(o.low), high: BigInt(o.high) });
      }
    } finally {
      await admin.disconnect();
    }
    return ends;
  }

  private restore(partition: number, cp: Checkpoint | undefined, ends: Map<string, { low: bigint; high: bigint }>, generation: number): Unit {
    const task = this.stage.newTask(partition, this.out);
    const unit: Unit = { partition, task, next: new Map(), applied: 0, checkpointed: 0, checkpointAt: Date.now(), checkpointCost: 0, sought: new Set(), behind: false, paused: false, pendingAt: undefined };
    if (cp) {
      task.restore(cp.snapshot);
      for (const [topic, offset] of Object.entries(cp.offsets)) unit.next.set(topic, BigInt(offset));
      unit.checkpointAt = cp.takenAt;
      this.deps.log.info({ stage: this.stage.name, partition, offsets: cp.offsets }, 'state restored from checkpoint');
    }
    // Partitions with a backlog count for alignment before their first batch, or the first batches would run far apart.
    unit.behind = this.stage.inputs.some((topic) => {
      const end = ends.get(`${topic}:${partition}`);
      const next = unit.next.get(topic);
      return end !== undefined && end.high > (next !== undefined && next > end.low ? next : end.low);
    });
    if (generation === this.generation) this.ready.set(partition, unit);
    return unit;
  }

  private async batch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.stopping) return;
    const pending = this.units.get(batch.partition);
    if (!pending) return;
    const unit = await pending;
    await this.lock.run(async () => {
      if (this.units.get(batch.partition) !== pending || this.stopping) return;
      const { topic } = batch;
      const first = batch.firstOffset();
      const resumeAt = unit.next.get(topic);
      if (first !== null && resumeAt !== undefined && BigInt(first) > resumeAt && !unit.sought.has(topic)) {
        // The committed offset is past the checkpoint (a stale checkpoint won a race): go back to where the state ends.
        unit.sought.add(topic);
        this.consumer.seek({ topic, partition: batch.partition, offset: String(resumeAt) });
        this.deps.log.warn({ stage: this.stage.name, topic, partition: batch.partition, from: first, to: String(resumeAt) }, 'seeking back to the checkpoint');
        return;
      }
      const current = () => this.units.get(batch.partition) === pending;
      let last: string | undefined;
      let handled = 0;
      const limit = this.aheadLimit(unit);
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) break;
        const offset = BigInt(message.offset);
        const next = unit.next.get(topic);
        // Already in the restored state: the checkpoint was written after the last commit.
        if (next === undefined || offset >= next) {
          const aheadAt = unit.task.handle(topic, batch.partition, message, limit);
          if (aheadAt !== undefined) {
            // Unresolved, so the rest of the batch is fetched again once this partition is resumed.
            unit.paused = true;
            unit.pendingAt = aheadAt;
            this.consumer.pause([{ topic, partitions: [batch.partition] }]);
            this.deps.log.debug({ partition: batch.partition, at: aheadAt, limit }, 'paused: ahead in event time');
            break;
          }
          unit.pendingAt = undefined;
          unit.next.set(topic, offset + 1n);
          unit.applied++;
          handled++;
          this.waiting++;
        }
        last = message.offset;
        if (this.out.full) {
          // Bounded memory: the buffer goes out as soon as the send in flight is acknowledged.
          await this.inFlight;
          if (!current()) return this.discardOutputs();
          this.sendIfIdle();
          resolveOffset(message.offset);
          await heartbeat();
        }
      }
      // The state was dropped while this batch waited: it is replayed from the checkpoint.
      if (!current()) return this.discardOutputs();
      this.sendIfIdle();
      if (last !== undefined) resolveOffset(last);
      const next = unit.next.get(topic);
      if (next !== undefined) {
        const lag = Math.max(0, Number(BigInt(batch.highWatermark) - next));
        unit.behind = lag > 0;
        this.deps.metrics.lag.set({ stage: this.stage.name, topic, partition: batch.partition }, lag);
      }
      if (handled > 0) this.updateStateSize(unit);
      this.realign();
      await heartbeat();
    });
  }

  /** Sends what gathered in `out`, unless a send is in flight: what gathers meanwhile goes once that one is acknowledged. */
  private sendIfIdle(): void {
    if (this.inFlight || this.waiting === 0) return;
    const topicMessages = this.out.take();
    const applied = this.waiting;
    this.waiting = 0;
    this.inFlight = this.transmit(topicMessages, applied).then(() => {
      this.inFlight = undefined;
      this.sendIfIdle();
    });
  }

  private async transmit(topicMessages: TopicMessages[], applied: number): Promise<void> {
    try {
      if (topicMessages.length > 0) await this.deps.producer.sendBatch({ topicMessages, acks: -1 });
      this.acknowledged += applied;
      this.lastBatchAt = performance.now();
    } catch (err) {
      // The producer retried already. State applied past these outputs must never be checkpointed, and outputs
      // applied after them must not follow them out: the gap would be invisible to fanout's position dedupe.
      this.lastError = String(err);
      this.deps.log.error({ stage: this.stage.name, err }, 'sending outputs failed; starting over from the checkpoints');
      this.forgetUnits();
      this.replaceConsumer();
    }
  }

  private discardOutputs(): void {
    this.out.take();
    this.waiting = 0;
  }

  /** Until every output of every message applied is acknowledged (or dropped with its state). */
  private async drained(): Promise<void> {
    for (this.sendIfIdle(); this.inFlight; this.sendIfIdle()) await this.inFlight;
  }

  /** Event time a partition may reach before it is paused: the slowest other partition with a backlog, plus slack. */
  private aheadLimit(unit: Unit): number {
    const within = this.stage.alignWithin;
    if (within === undefined) return Number.POSITIVE_INFINITY;
    let slowest = Number.POSITIVE_INFINITY;
    for (const other of this.ready.values()) {
      if (other !== unit && other.behind) slowest = Math.min(slowest, position(other));
    }
    return slowest + within;
  }

  /**
   * Resumes partitions that are no longer ahead. The partition furthest behind is always within its limit, so some
   * partition can always make progress.
   */
  private realign(): void {
    for (const unit of this.ready.values()) {
      if (!unit.paused || position(unit) > this.aheadLimit(unit)) continue;
      unit.paused = false;
      this.deps.log.debug({ partition: unit.partition, at: position(unit) }, 'resumed');
      this.consumer.resume(this.stage.inputs.map((topic) => ({ topic, partitions: [unit.partition] })));
    }
  }

  /** A partition that may now belong to another worker must not go on reporting its last values here. */
  private forgetMetrics(unit: Unit): void {
    const { metrics } = this.deps;
    const labels = { stage: this.stage.name, partition: unit.partition };
    for (const topic of this.stage.inputs) metrics.lag.remove({ ...labels, topic });
    for (const kind of Object.keys(unit.task.stateSize())) metrics.stateSize.remove({ ...labels, kind });
    metrics.checkpointAge.remove(labels);
    metrics.checkpointBytes.remove(labels);
  }

  private updateStateSize(unit: Unit): void {
    for (const [kind, n] of Object.entries(unit.task.stateSize())) this.deps.metrics.stateSize.set({ stage: this.stage.name, partition: unit.partition, kind }, n);
  }

  /**
   * Checkpoints partitions with unsaved progress (all of them when `all`), then commits their offsets. State and
   * offsets are captured together between batches, after the batch's outputs were acknowledged; the write itself
   * runs outside the lock so processing goes on meanwhile.
   */
  private checkpointDue(all: boolean): Promise<void> {
    if (this.checkpointing) return this.checkpointing;
    const run = async () => {
      const now = Date.now();
      const every = (u: Unit) => Math.max(this.deps.config.checkpoint.intervalMs, u.checkpointCost * CHECKPOINT_COST_FACTOR);
      const due = [...this.ready.values()].filter((u) => u.applied > u.checkpointed && (all || now - u.checkpointAt >= every(u)));
      // One partition at a time, each captured in its own turn of the lock: batches run in between, so a large
      // state costs several short pauses instead of one long one.
      for (const unit of due) {
        const captured = await this.lock.run(async () => {
          // The state includes every message applied: all their outputs must be acknowledged first.
          await this.drained();
          if (this.ready.get(unit.partition) !== unit) return undefined;
          const started = performance.now();
          const offsets = Object.fromEntries([...unit.next].map(([t, o]) => [t, String(o)]));
          const cp: Checkpoint = { offsets, snapshot: unit.task.snapshot(), takenAt: Date.now() };
          const body = encodeCheckpoint(cp);
          return { applied: unit.applied, offsets, takenAt: cp.takenAt, body, cost: performance.now() - started };
        });
        if (!captured) continue;
        const { applied, offsets, takenAt, body, cost } = captured;
        await this.deps.checkpoints.write(this.key(unit.partition), body);
        unit.checkpointed = applied;
        unit.checkpointAt = takenAt;
        unit.checkpointCost = cost;
        this.deps.metrics.checkpointBytes.set({ stage: this.stage.name, partition: unit.partition }, body.length);
        try {
          await this.consumer.commitOffsets(Object.entries(offsets).map(([topic, offset]) => ({ topic, partition: unit.partition, offset })));
        } catch (err) {
          // The checkpoint stands; whoever owns the partition next seeks to it.
          this.deps.log.warn({ stage: this.stage.name, partition: unit.partition, err }, 'offset commit failed after checkpoint');
        }
      }
    };
    this.checkpointing = run()
      .catch((err: unknown) => {
        this.lastError = String(err);
        this.deps.log.error({ stage: this.stage.name, err }, 'checkpoint failed; will retry');
      })
      .finally(() => (this.checkpointing = undefined));
    return this.checkpointing;
  }

  /** Number of messages applied but not yet checkpointed, over all assigned partitions. */
  get unsaved(): number {
    let n = 0;
    for (const u of this.ready.values()) n += u.applied - u.checkpointed;
    return n;
  }

  /** Partitions whose checkpoints are loaded. */
  get assignedPartitions(): number[] {
    return [...this.ready.keys()];
  }

  /** Graceful stop: no new batches, a final checkpoint and commit of everything applied, then leave the group. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopping = true;
    await this.replacing;
    // A crashed consumer has nothing to pause (kafkajs refuses to).
    if (this.healthy) this.consumer.pause(this.stage.inputs.map((topic) => ({ topic })));
    await this.checkpointing;
    // Outputs of everything applied go out, checkpointed or not, before the producer may be disconnected.
    await this.lock.run(() => this.drained());
    await this.checkpointDue(true);
    await this.consumer.disconnect();
  }
}
