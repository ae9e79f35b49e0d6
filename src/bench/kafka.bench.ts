/**
 * Kafka pipeline benchmark, one run against a real broker ($KAFKA_BROKERS, else one started here):
 *
 *  1. throughput: the same N events consumed by a bare kafkajs consumer that only JSON.parses (the floor) and by the
 *     detect stage (validate, detect, publish strikes, quota, dead letters and the repartition bundles) until every
 *     event's outputs are acknowledged, in alternating rounds; both rates are taken after each side's first batch
 *     (events counted from then, over the time from then), and the ratio is the median of the rounds' ratios;
 *  2. latency: event-to-strike p50/p99 at a steady rate with event time = now, from the producer's send to the
 *     strike's arrival on the strikes topic, with the detect stage in its own process.
 *
 *   npm run bench:kafka [-- --events 200000 --partitions 6 --rounds 3 --rate 5000 --seconds 20 --only throughput|latency]
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { pino } from 'pino';
import { resolveKafkaConfig, type KafkaConfig } from '../adapters/kafka/config.js';
import { createPipelineTopics, topicsOf } from '../adapters/kafka/topics.js';
import { startWorker } from '../adapters/kafka/worker.js';
import type { Strike } from '../contract/outputs.js';
import { startKafka, type KafkaBroker } from '../devservers/kafka.js';
import { loadPolicy } from '../policy/load.js';
import { loadRuleDir } from '../rules/load.js';
import { simulateEvents } from '../simulate/simulate.js';
import { DEFAULT_POLICY_FILE, DEFAULT_RULES_DIR } from '../cli/defaults.js';
import { machine, median } from './machine.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '20' },
    only: { type: 'string' },
  },
});
const N = Number(args.events);
const ROUNDS = Number(args.rounds);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function benchConfig(brokers: string, prefix: string): KafkaConfig {
  return resolveKafkaConfig({ brokers: [brokers], topicPrefix: prefix, partitions: Number(args.partitions), logLevel: 'warn', metrics: { port: 0 }, ...(process.env.BENCH_SKEW ? { fanout: { allowedSkew: process.env.BENCH_SKEW } } : {}) });
}

async function produceAll(producer: Producer, topic: string, lines: readonly string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += 2_000) {
    const messages = lines.slice(i, i + 2_000).map((value) => ({ key: (JSON.parse(value) as { accountId: string }).accountId, value }));
    await producer.send({ topic, acks: -1, messages });
  }
}

/** Events/s after the first batch: the events done since it, over the time since it ended, so joining is not timed. */
function rateAfter(first: { at: number; done: number }, last: number): number {
  return (N - first.done) / ((last - first.at) / 1000);
}

/** The floor: a consumer group that reads and JSON.parses every message, with the stage's fetch sizes. */
async function floor(kafka: Kafka, config: KafkaConfig): Promise<number> {
  const c = config.consumer;
  const consumer = kafka.consumer({ groupId: `bench-floor-${randomUUID()}`, maxBytesPerPartition: c.maxBytesPerPartition, maxBytes: c.maxBytes, maxWaitTimeInMs: c.maxWaitMs });
  let seen = 0;
  let first: { at: number; done: number } | undefined;
  let last = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: topicsOf(config).events, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) if (JSON.parse(m.value!.toString('utf8'))) seen++;
      last = performance.now();
      first ??= { at: last, done: seen };
    },
  });
  while (seen < N) await sleep(20);
  await consumer.disconnect();
  return rateAfter(first!, last);
}

/** The detect stage in this process, until all N events are applied and their outputs acknowledged. */
async function detect(config: KafkaConfig, only?: 'account-rules'): Promise<number> {
  const [all, policy] = await Promise.all([loadRuleDir(DEFAULT_RULES_DIR), loadPolicy(DEFAULT_POLICY_FILE)]);
  // Without device/IP rules there is nothing to repartition: shows what the repartition output costs.
  const rules = only ? { ...all, rules: all.rules.filter((r) => r.spec.groupBy === 'accountId') } : all;
  const worker = await startWorker({ config, rules, policy, stages: ['detect'], log: pino({ level: 'warn' }), serve: false });
  const runner = worker.runners[0]!;
  let first: { at: number; done: number } | undefined;
  // Read together: lastBatchAt is when `acknowledged` last grew.
  for (; runner.acknowledged < N; await sleep(2)) if (runner.acknowledged > 0) first ??= { at: runner.lastBatchAt, done: runner.acknowledged };
  const rate = rateAfter(first!, runner.lastBatchAt);
  await worker.stop();
  return rate;
}

/** Accounts that each burst 40 requests over a few seconds and leave: a steady flow of velocity strikes. */
function* steadyLoad(): Generator<{ accountId: string; n: number }> {
  for (let a = 0; ; a++) for (let n = 0; n < 40; n++) yield { accountId: `lat-${a}`, n };
}

async function latency(kafka: Kafka, brokers: string, config: KafkaConfig): Promise<{ p50: number; p99: number; strikes: number; sent: number }> {
  const topics = topicsOf(config);
  // The stage runs in its own process, as deployed, so the load generator does not share its event loop.
  const cli = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'start', '--stage', 'detect', '--brokers', brokers, '--topic-prefix', config.topicPrefix, '--metrics-port', '0'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, FAIRUSE_LOG_LEVEL: 'warn' },
  });
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  let strikesSeen = 0;
  const consumer = kafka.consumer({ groupId: `bench-latency-${randomUUID()}`, maxWaitTimeInMs: 10 });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.strikes, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const strike = JSON.parse(message.value!.toString('utf8')) as Strike;
      strikesSeen++;
      const at = sentAt.get(strike.evidence.triggerEventId);
      if (at !== undefined) samples.push(performance.now() - at);
    },
  });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  // Warm up until the stage answers, so joining the group is not measured.
  const load = steadyLoad();
  const send = async (count: number, record: boolean) => {
    const messages = [];
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      const { accountId, n } = load.next().value!;
      const eventId = `${accountId}-${n}`;
      const event = { eventId, type: 'generation.requested', occurredAt: new Date(now).toISOString(), accountId, requestId: eventId, plan: 'unlimited', unlimited: true, tool: 'image', model: 'imagine-4', speed: 'relaxed', ip: '198.51.100.7' };
      messages.push({ key: accountId, value: JSON.stringify(event) });
      if (record) sentAt.set(eventId, performance.now());
    }
    await producer.send({ topic: topics.events, messages });
  };
  const tick = 20;
  const perTick = Math.round((RATE * tick) / 1000);
  for (const deadline = Date.now() + 60_000; strikesSeen === 0 && Date.now() < deadline; await sleep(tick)) await send(perTick, false);
  // Strikes of events sent while the stage was still starting would be timed from before it could run.
  await sleep(2_000);
  let sent = 0;
  const start = performance.now();
  for (let t = 0; performance.now() - start < SECONDS * 1000; t++) {
    // Paced against the clock, so a slow send is caught up rather than lowering the rate.
    const due = Math.round(((performance.now() - start) / 1000) * RATE) - sent;
    if (due > 0) {
      await send(due, true);
      sent += due;
    }
    await sleep(Math.max(0, start + (t + 1) * tick - performance.now()));
  }
  await sleep(2_000);
  await producer.disconnect();
  await consumer.disconnect();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: median(sorted), p99: sorted[Math.floor(sorted.length * 0.99)] ?? NaN, strikes: samples.length, sent };
}

async function throughput(kafka: Kafka, brokers: string): Promise<void> {
  const config = benchConfig(brokers, `bench-${randomUUID().slice(0, 8)}.`);
  await createPipelineTopics(kafka, config);
  const lines: string[] = [];
  for (const e of simulateEvents({ accounts: Math.max(50, Math.round(N / 430)), days: 1, seed: 3 })) {
    lines.push(JSON.stringify(e));
    if (lines.length >= N) break;
  }
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await produceAll(producer, topicsOf(config).events, lines);
  await producer.disconnect();
  const rounds: Array<{ floor: number; detect: number; account: number }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Each round's stages are new consumer groups with their own outputs, reading the same events topic.
    const stageConfig = (name: string) => ({ ...config, topicPrefix: `${config.topicPrefix}${name}-${r}.`, eventsTopic: topicsOf(config).events });
    const f = await floor(kafka, config);
    const d = await detect(stageConfig('all-rules'));
    const a = await detect(stageConfig('account-rules'), 'account-rules');
    rounds.push({ floor: f, detect: d, account: a });
    console.log(`round ${r + 1}: floor ${Math.round(f)}, detect ${Math.round(d)}, per-account rules only ${Math.round(a)} events/s`);
  }
  const events = (k: 'floor' | 'detect' | 'account') => Math.round(median(rounds.map((x) => x[k]))).toLocaleString('en-US');
  const ratio = (k: 'detect' | 'account') => median(rounds.map((x) => x[k] / x.floor)).toFixed(2);
  console.log(`\n## Kafka detect stage (${N.toLocaleString('en-US')} simulated events, ${args.partitions} partitions, medians of ${ROUNDS} rounds)\n`);
  console.log('| measure | events/s | ratio to floor |\n|---|---:|---:|');
  console.log(`| floor: kafkajs consume + JSON.parse | ${events('floor')} | 1.00 |`);
  console.log(`| detect stage: validate, detect, publish outputs + repartition bundles, acknowledged | ${events('detect')} | ${ratio('detect')} |`);
  console.log(`| same, per-account rules only (no repartition output) | ${events('account')} | ${ratio('account')} |`);
}

async function main(): Promise<void> {
  let broker: KafkaBroker | undefined;
  const brokers = process.env.KAFKA_BROKERS ?? (broker = await startKafka()).brokers;
  try {
    const kafka = new Kafka({ clientId: 'fairuse-bench', brokers: [brokers], logLevel: logLevel.NOTHING });
    console.log(`machine: ${machine()}; broker: ${broker ? 'started by the bench' : brokers}`);
    if (args.only !== 'latency') await throughput(kafka, brokers);
    if (args.only !== 'throughput') {
      const config = benchConfig(brokers, `bench-${randomUUID().slice(0, 8)}.`);
      await createPipelineTopics(kafka, config);
      const l = await latency(kafka, brokers, config);
      console.log(`\n## Event-to-strike latency at ${RATE.toLocaleString('en-US')} events/s for ${SECONDS} s (event time = now, detect stage in its own process)\n`);
      console.log('| events sent | strikes timed | p50 | p99 |\n|---:|---:|---:|---:|');
      console.log(`| ${l.sent.toLocaleString('en-US')} | ${l.strikes.toLocaleString('en-US')} | ${l.p50.toFixed(1)} ms | ${l.p99.toFixed(1)} ms |`);
    }
  } finally {
    await broker?.stop();
  }
}

await main();
