import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { resolveKafkaConfig, type KafkaConfig } from '../../src/adapters/kafka/config.js';
import { exportTopic } from '../../src/adapters/kafka/export.js';
import { produceEvents } from '../../src/adapters/kafka/produce.js';
import { STAGES } from '../../src/adapters/kafka/stage.js';
import { createPipelineTopics, retrying, topicsOf, type ExportableTopic, type Topics } from '../../src/adapters/kafka/topics.js';
import { startWorker, type Worker } from '../../src/adapters/kafka/worker.js';
import { loadPolicy } from '../../src/policy/load.js';
import { loadRuleDir } from '../../src/rules/load.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist/cli/main.js');
export const RULES_DIR = join(ROOT, 'rules');
export const POLICY_FILE = join(ROOT, 'rules/policy.yaml');

/** Settings that make a test pipeline react in milliseconds instead of seconds. */
export const FAST = {
  partitions: 4,
  checkpoint: { intervalMs: 200 },
  // The broker's group.min.session.timeout.ms is 6 s: a killed worker's partitions move after that.
  consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 10_000, maxWaitMs: 50, maxBytesPerPartition: 64 * 1024 },
  metrics: { port: 0 },
};

export function uniquePrefix(name: string): string {
  return `t-${name}-${randomUUID().slice(0, 8)}.`;
}

export function testConfig(brokers: string, prefix: string, extra: Record<string, unknown> = {}): KafkaConfig {
  return resolveKafkaConfig(FAST, { brokers: [brokers], topicPrefix: prefix, logLevel: 'silent' }, extra);
}

export function client(brokers: string): Kafka {
  return new Kafka({ clientId: 'kafka-pipeline-test', brokers: [brokers], logLevel: logLevel.NOTHING });
}

export function createTopics(brokers: string, config: KafkaConfig): Promise<Topics> {
  return createPipelineTopics(client(brokers), config);
}

export async function produceLines(brokers: string, config: KafkaConfig, lines: readonly string[]): Promise<void> {
  await createTopics(brokers, config);
  const producer = client(brokers).producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await produceEvents(producer, topicsOf(config).events, Readable.from([lines.join('\n') + '\n']));
  } finally {
    await producer.disconnect();
  }
}

/** A worker in this process (quicker than a child when the test does not kill it). */
export async function inProcessWorker(config: KafkaConfig, rulesDir = RULES_DIR): Promise<Worker> {
  const [rules, policy] = await Promise.all([loadRuleDir(rulesDir), loadPolicy(POLICY_FILE)]);
  return startWorker({ config, rules, policy, stages: STAGES, log: pino({ level: 'silent' }), serve: false });
}

export async function exportRecords<T = Record<string, unknown>>(brokers: string, config: KafkaConfig, topic: ExportableTopic): Promise<T[]> {
  const file = join(await mkdtemp(join(tmpdir(), 'kafka-export-')), `${topic}.ndjson`);
  await exportTopic(client(brokers), topicsOf(config), topic, file);
  return readNdjson<T>(file);
}

export async function readNdjson<T = Record<string, unknown>>(file: string): Promise<T[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

export async function until(done: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await done()); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

const STAGE_INPUTS = (t: Topics) => ({ detect: [t.events], fanout: [t.repartition], enforce: [t.strikes, t.commands] });

/** Per stage: committed offsets summed, and how many messages its inputs hold. */
export async function progress(brokers: string, config: KafkaConfig): Promise<Record<string, { committed: number; end: number }>> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    const out: Record<string, { committed: number; end: number }> = {};
    for (const [stage, topics] of Object.entries(STAGE_INPUTS(topicsOf(config)))) {
      let committed = 0;
      let end = 0;
      for (const topic of topics) {
        for (const o of await retrying(() => admin.fetchTopicOffsets(topic))) end += Number(o.high);
        const [group] = await retrying(() => admin.fetchOffsets({ groupId: `${config.topicPrefix}${stage}`, topics: [topic] }));
        for (const p of group?.partitions ?? []) committed += Math.max(0, Number(p.offset));
      }
      out[stage] = { committed, end };
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** Every stage has committed everything its inputs hold, twice in a row (downstream inputs grow until then). */
export async function drained(brokers: string, config: KafkaConfig, timeoutMs = 90_000): Promise<void> {
  let streak = 0;
  await until(
    async () => {
      const p = await progress(brokers, config);
      // Checked upstream first: a stage commits only after its outputs are acknowledged, so the next one's end is final.
      const done = Object.values(p).every((s) => s.committed === s.end);
      streak = done ? streak + 1 : 0;
      if (!done) await new Promise((r) => setTimeout(r, 200));
      return streak >= 2;
    },
    timeoutMs,
    'all stages to commit everything',
  );
}

const running = new Set<ChildProcess>();
// Workers must not outlive a test run that failed half-way (they would keep consuming on the shared broker).
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** `fairuse start` as a child process, for tests that kill or signal it. */
export class WorkerProcess {
  /** Kills every worker still running: for afterEach, so a failed test leaves none behind. */
  static killAll(): void {
    for (const child of running) child.kill('SIGKILL');
  }

  readonly logs: string[] = [];
  readonly exited: Promise<number | null>;
  private constructor(readonly child: ChildProcess) {
    let partial = '';
    child.stderr!.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      this.logs.push(...lines);
    });
    child.stdout!.resume();
    running.add(child);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        running.delete(child);
        resolve(code);
      }),
    );
  }

  static async start(brokers: string, prefix: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'kafka-worker-'));
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ ...FAST, logLevel: 'info' }));
    const child = spawn(process.execPath, [CLI, 'start', '--brokers', brokers, '--topic-prefix', prefix, '--config', config, ...extraArgs], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    return new WorkerProcess(child);
  }

  /** Structured log records whose message is `msg`. */
  records(msg: string): Array<Record<string, unknown>> {
    return this.logs.flatMap((l) => {
      try {
        const r = JSON.parse(l) as Record<string, unknown>;
        return r.msg === msg ? [r] : [];
      } catch {
        return [];
      }
    });
  }

  async port(): Promise<number> {
    await until(() => this.records('serving /healthz and /metrics').length > 0, 60_000, 'the worker to serve metrics');
    return this.records('serving /healthz and /metrics')[0]!.port as number;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
