import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Strike, Transition } from '../../src/contract/outputs.js';
import { CheckpointStore } from '../../src/adapters/kafka/checkpoint.js';
import { checkpointKey } from '../../src/adapters/kafka/runner.js';
import { topicsOf } from '../../src/adapters/kafka/topics.js';
import { fairuse } from '../support/cli.js';
import { kafkaBrokers } from '../support/kafka.js';
import { syntheticEvents } from '../support/kafka-events.js';
import {
  client,
  drained,
  exportRecords,
  inProcessWorker,
  produceLines,
  progress,
  readNdjson,
  testConfig,
  uniquePrefix,
  until,
  WorkerProcess,
} from '../support/kafka-pipeline.js';
import type { KafkaConfig } from '../../src/adapters/kafka/config.js';

interface Outcome {
  strikes: string[];
  transitions: string[];
}

async function outcome(brokers: string, config: KafkaConfig): Promise<Outcome> {
  const strikes = await exportRecords<Strike>(brokers, config, 'strikes');
  const transitions = await exportRecords<Transition>(brokers, config, 'transitions');
  return { strikes: strikes.map((s) => s.strikeId).sort(), transitions: transitions.map((t) => t.transitionId).sort() };
}

/** Publishes in small pieces over a few seconds, so workers are stopped and started while events still arrive. */
async function produceSteadily(brokers: string, config: KafkaConfig, lines: readonly string[], pieces = 20, pauseMs = 150): Promise<void> {
  const size = Math.ceil(lines.length / pieces);
  for (let i = 0; i < lines.length; i += size) {
    await produceLines(brokers, config, lines.slice(i, i + size));
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

const detectCommitted = async (brokers: string, config: KafkaConfig) => (await progress(brokers, config)).detect!.committed;

describe('Kafka pipeline recovery (effectively once)', () => {
  afterEach(() => WorkerProcess.killAll());

  let brokers: string;
  let lines: string[];
  let reference: Outcome;

  beforeAll(async () => {
    brokers = await kafkaBrokers();
    lines = syntheticEvents({ partitions: 4, ordinary: 30, scrapers: 4, farms: 2, hours: 8 });
    // The uninterrupted run: embedded, which an uninterrupted Kafka run matches to the id on this data (see kafka-events.ts).
    const dir = await mkdtemp(join(tmpdir(), 'kafka-recovery-'));
    await writeFile(join(dir, 'events.ndjson'), lines.join('\n') + '\n');
    const run = await fairuse(['run', '-i', join(dir, 'events.ndjson'), '-o', join(dir, 'embedded')]);
    expect(run.code, run.stderr).toBe(0);
    reference = {
      strikes: (await readNdjson<Strike>(join(dir, 'embedded/strikes.ndjson'))).map((s) => s.strikeId).sort(),
      transitions: (await readNdjson<Transition>(join(dir, 'embedded/transitions.ndjson'))).map((t) => t.transitionId).sort(),
    };
    // Scrapers are paused then suspended by velocity strikes, farms paused by the device rule.
    expect(reference.strikes.length).toBeGreaterThan(20);
    expect(reference.transitions.length).toBeGreaterThan(10);
  });

  /** Events start arriving, a worker starts, and this returns once it has checkpointed some of them. */
  async function midStream(name: string) {
    const prefix = uniquePrefix(name);
    const config = testConfig(brokers, prefix);
    const producing = produceSteadily(brokers, config, lines);
    const first = await WorkerProcess.start(brokers, prefix);
    await until(async () => (await detectCommitted(brokers, config)) > 0, 60_000, 'the first checkpoint');
    return { prefix, config, producing, first };
  }

  async function expectReferenceOutcome(config: KafkaConfig): Promise<void> {
    const after = await outcome(brokers, config);
    expect(after.strikes).toEqual(reference.strikes);
    expect(after.transitions).toEqual(reference.transitions);
  }

  it('a worker killed with SIGKILL mid-stream and restarted ends with exactly the uninterrupted strikes and transitions', async () => {
    const { prefix, config, producing, first } = await midStream('kill');
    first.kill('SIGKILL');
    expect(await first.exited).toBe(null);
    const before = await progress(brokers, config);
    expect(before.detect!.committed).toBeLessThan(lines.length);

    const second = await WorkerProcess.start(brokers, prefix);
    await producing;
    await drained(brokers, config);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // The restarted worker resumed from checkpoints rather than from scratch.
    expect(second.records('state restored from checkpoint').length).toBeGreaterThan(0);

    await expectReferenceOutcome(config);
  });

  it('partitions moving to a second worker mid-stream change nothing in the strikes and transitions', async () => {
    const { prefix, config, producing, first } = await midStream('rebalance');
    const second = await WorkerProcess.start(brokers, prefix);
    // Every stage of the second worker took over part of the partitions while events kept arriving.
    await until(() => new Set(second.records('partitions assigned').filter((r) => (r.partitions as number[]).length > 0).map((r) => r.stage)).size === 3, 60_000, 'the second worker to get partitions');
    await producing;
    await drained(brokers, config);
    first.kill('SIGTERM');
    second.kill('SIGTERM');
    expect([await first.exited, await second.exited]).toEqual([0, 0]);
    const moved = first.records('partitions assigned').filter((r) => r.stage === 'detect');
    expect(moved.length).toBeGreaterThan(1);
    expect((moved.at(-1)!.partitions as number[]).length).toBeLessThan(4);

    await expectReferenceOutcome(config);
  });

  it('SIGTERM checkpoints and commits everything processed, exits 0, and a restart picks up exactly there', async () => {
    const prefix = uniquePrefix('sigterm');
    const config = testConfig(brokers, prefix);
    await produceLines(brokers, config, lines);
    const worker = await WorkerProcess.start(brokers, prefix);
    await until(async () => (await detectCommitted(brokers, config)) > 0, 60_000, 'the first checkpoint');
    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.records('stopped')).toHaveLength(1);

    // Committed offsets are exactly the offsets the final checkpoints cover: nothing processed is left unsaved.
    const kafka = client(brokers);
    const producer = kafka.producer();
    const store = new CheckpointStore(kafka, producer, topicsOf(config).checkpoints, config.checkpoint.chunkBytes);
    const t = topicsOf(config);
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const [stage, inputs] of [['detect', [t.events]], ['fanout', [t.repartition]], ['enforce', [t.strikes, t.commands]]] as const) {
        const topic = inputs[0];
        const [committed] = await admin.fetchOffsets({ groupId: `${prefix}${stage}`, topics: [topic] });
        const key = (p: number) => checkpointKey(stage, inputs, p);
        const checkpoints = await store.load([0, 1, 2, 3].map(key));
        for (const p of committed!.partitions) {
          const cp = checkpoints.get(key(p.partition));
          if (p.offset === '-1') expect(cp).toBeUndefined();
          else expect(cp?.offsets[topic], `${stage} partition ${p.partition}`).toBe(p.offset);
        }
      }
    } finally {
      await admin.disconnect();
    }

    const restarted = await inProcessWorker(config);
    await drained(brokers, config);
    await restarted.stop();
    await expectReferenceOutcome(config);
  });
});
