import { describe, expect, it, vi } from 'vitest';
import type { Batch, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer, TopicMessages } from 'kafkajs';
import { pino } from 'pino';
import type { Checkpoint, CheckpointStore } from '../../src/adapters/kafka/checkpoint.js';
import { resolveKafkaConfig } from '../../src/adapters/kafka/config.js';
import { PipelineMetrics } from '../../src/adapters/kafka/metrics.js';
import { checkpointKey, StageRunner } from '../../src/adapters/kafka/runner.js';
import type { Outputs, Stage } from '../../src/adapters/kafka/stage.js';

const TOPIC = 'in';
const KEY = checkpointKey('detect', [TOPIC], 0);

/** Enough of a kafkajs consumer for the runner: events, run, and what the runner asked of it. */
class FakeConsumer {
  readonly events = { GROUP_JOIN: 'join', CRASH: 'crash', STOP: 'stop' } as const;
  private readonly handlers = new Map<string, (e: { payload: unknown }) => void>();
  eachBatch: ((p: EachBatchPayload) => Promise<void>) | undefined;
  disconnected = false;
  readonly commits: unknown[] = [];
  on(event: string, handler: (e: { payload: unknown }) => void): void {
    this.handlers.set(event, handler);
  }
  emit(event: string, payload: unknown): void {
    this.handlers.get(event)?.({ payload });
  }
  join(partitions: number[]): void {
    this.emit(this.events.GROUP_JOIN, { memberAssignment: { [TOPIC]: partitions } });
  }
  async connect(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async run(o: { eachBatch: (p: EachBatchPayload) => Promise<void> }): Promise<void> {
    this.eachBatch = o.eachBatch;
  }
  async disconnect(): Promise<void> {
    this.disconnected = true;
  }
  pause(): void {}
  resume(): void {}
  seek(): void {}
  async commitOffsets(offsets: unknown): Promise<void> {
    this.commits.push(offsets);
  }
}

/** A send that resolves or fails when the test says. */
interface PendingSend {
  topicMessages: TopicMessages[];
  ack(): void;
  fail(err: Error): void;
}

function harness(saved?: Checkpoint, o: { intervalMs?: number; writeMs?: () => number } = {}) {
  const consumers: FakeConsumer[] = [];
  const sends: PendingSend[] = [];
  const written: Array<{ key: string; body: string }> = [];
  const handled: string[] = [];
  const fatal: Error[] = [];
  const kafka = {
    consumer: () => {
      const c = new FakeConsumer();
      consumers.push(c);
      return c as unknown as Consumer;
    },
  } as unknown as Kafka;
  const producer = {
    sendBatch: ({ topicMessages }: { topicMessages: TopicMessages[] }) =>
      new Promise<void>((resolve, reject) => sends.push({ topicMessages, ack: resolve, fail: reject })),
  } as unknown as Producer;
  const checkpoints = {
    load: async (keys: string[]) => new Map(saved && keys.includes(KEY) ? [[KEY, saved]] : []),
    write: async (key: string, body: Buffer) => {
      await new Promise((r) => setTimeout(r, o.writeMs?.() ?? 0));
      written.push({ key, body: body.toString() });
    },
  } as unknown as CheckpointStore;
  /** Each message becomes one output on topic `out`, and the state is the list of values applied. */
  const stage: Stage = {
    name: 'detect',
    inputs: [TOPIC],
    newTask: (_partition: number, out: Outputs) => {
      let state: string[] = [];
      return {
        handle: (_topic, _partition, m) => {
          state.push(String(m.value));
          handled.push(String(m.value));
          out.push('out', { key: null, value: String(m.value) });
          return undefined;
        },
        snapshot: () => [...state],
        restore: (s) => (state = [...(s as string[])]),
        stateSize: () => ({ values: state.length }),
      };
    },
  };
  const config = resolveKafkaConfig({ brokers: ['h:1'], checkpoint: { intervalMs: o.intervalMs ?? 3_600_000 } });
  const runner = new StageRunner({ kafka, producer, checkpoints, config, metrics: new PipelineMetrics(), log: pino({ level: 'silent' }), groupId: 'g', onFatal: (e) => void fatal.push(e) }, stage);
  const settle = () => new Promise((r) => setTimeout(r, 0));
  /** Hands a batch of `values` at `first`.. to the current consumer's eachBatch; resolves when the runner returns. */
  const batch = (first: number, values: string[]) => {
    const messages = values.map((value, i) => ({ offset: String(first + i), value: Buffer.from(value), key: null, headers: {}, timestamp: '0', attributes: 0 }) as KafkaMessage);
    const b = { topic: TOPIC, partition: 0, highWatermark: String(first + values.length), messages, firstOffset: () => String(first) } as unknown as Batch;
    const payload = { batch, resolveOffset: () => {}, heartbeat: async () => {}, isRunning: () => true, isStale: () => false } as unknown as EachBatchPayload;
    return consumers.at(-1)!.eachBatch!({ ...payload, batch: b });
  };
  const sent = () => sends.map((s) => s.topicMessages.flatMap((t) => t.messages.map((m) => String(m.value))));
  return { runner, consumers, sends, sent, written, handled, fatal, batch, settle };
}

describe('stage runner', () => {
  it('applies later batches while a send awaits its acknowledgement, and sends what they put out together after it', async () => {
    const h = harness();
    await h.runner.start();
    h.consumers[0]!.join([0]);
    await h.settle();
    await h.batch(0, ['a', 'b']);
    await h.batch(2, ['c']);
    await h.batch(3, ['d']);
    expect(h.handled).toEqual(['a', 'b', 'c', 'd']);
    expect(h.sent()).toEqual([['a', 'b']]);
    expect(h.runner.acknowledged).toBe(0);
    h.sends[0]!.ack();
    await h.settle();
    // One send in flight at a time: what gathered meanwhile goes as one.
    expect(h.sent()).toEqual([['a', 'b'], ['c', 'd']]);
    expect(h.runner.acknowledged).toBe(2);
    h.sends[1]!.ack();
    await h.runner.stop();
    expect(h.runner.acknowledged).toBe(4);
  });

  it('checkpoints only once every output sent is acknowledged', async () => {
    const h = harness();
    await h.runner.start();
    h.consumers[0]!.join([0]);
    await h.settle();
    await h.batch(0, ['a']);
    const stopped = h.runner.stop();
    await h.settle();
    expect(h.written).toEqual([]);
    h.sends[0]!.ack();
    await stopped;
    expect(h.written.map((w) => [w.key, JSON.parse(w.body).offsets, JSON.parse(w.body).snapshot])).toEqual([[KEY, { [TOPIC]: '1' }, ['a']]]);
    expect(h.consumers[0]!.commits).toEqual([[{ topic: TOPIC, partition: 0, offset: '1' }]]);
  });

  it('does not space checkpoints out after one that was slow only because the broker was', async () => {
    const delays = [1_500, 0];
    const h = harness(undefined, { intervalMs: 50, writeMs: () => delays.shift() ?? 0 });
    await h.runner.start();
    h.consumers[0]!.join([0]);
    await h.settle();
    await h.batch(0, ['a']);
    h.sends[0]!.ack();
    await vi.waitFor(() => expect(h.written).toHaveLength(1), { timeout: 5_000 });
    await h.batch(1, ['b']);
    h.sends[1]!.ack();
    // Spacing by the whole write (1.5 s × 20) would put the next checkpoint 30 s out.
    await vi.waitFor(() => expect(h.written).toHaveLength(2), { timeout: 5_000 });
    await h.runner.stop();
  });

  it('after a failed send, drops the state applied since the checkpoint, sends nothing after it, and starts over from the checkpoint', async () => {
    const h = harness({ offsets: { [TOPIC]: '1' }, snapshot: ['a'], takenAt: 0 });
    await h.runner.start();
    h.consumers[0]!.join([0]);
    await h.settle();
    await h.batch(1, ['b']);
    const second = h.batch(2, ['c']);
    await h.settle();
    expect(h.handled).toEqual(['b', 'c']);
    h.sends[0]!.fail(new Error('broker gone'));
    await second;
    // 'c' was applied after the lost 'b': sending it would leave a gap in the partition's outputs.
    expect(h.sent()).toEqual([['b']]);
    expect(h.runner.lastError).toBe('Error: broker gone');
    await h.settle();
    expect(h.consumers).toHaveLength(2);
    expect(h.consumers[0]!.disconnected).toBe(true);
    // The new member gets the partition and replays from the checkpoint; nothing of 'b' or 'c' was checkpointed.
    h.consumers[1]!.join([0]);
    await h.settle();
    await h.batch(1, ['b', 'c']);
    h.sends[1]!.ack();
    await h.runner.stop();
    expect(h.sent()).toEqual([['b'], ['b', 'c']]);
    expect(h.written.map((w) => JSON.parse(w.body).snapshot)).toEqual([['a', 'b', 'c']]);
    expect(h.fatal).toEqual([]);
  });

  it('replaces a consumer kafkajs gives up on after it joined, and reports one that never joined as fatal', async () => {
    const h = harness();
    await h.runner.start();
    h.consumers[0]!.join([0]);
    h.consumers[0]!.emit('crash', { error: new Error('Failed to find group coordinator'), restart: false });
    await h.settle();
    expect(h.consumers).toHaveLength(2);
    expect(h.consumers[0]!.disconnected).toBe(true);
    expect(h.consumers[1]!.eachBatch).toBeDefined();
    // The replaced consumer's late events are not the runner's concern any more.
    h.consumers[0]!.emit('crash', { error: new Error('late'), restart: false });
    expect(h.consumers).toHaveLength(2);
    expect(h.fatal).toEqual([]);
    await h.runner.stop();

    const never = harness();
    await never.runner.start();
    never.consumers[0]!.emit('crash', { error: new Error('SASL authentication failed'), restart: false });
    expect(never.fatal.map((e) => e.message)).toEqual(['SASL authentication failed']);
    expect(never.consumers).toHaveLength(1);
    await never.runner.stop();
  });
});
