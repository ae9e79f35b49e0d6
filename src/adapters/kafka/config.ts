import { readFile, stat } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { Duration } from '../../time/duration.js';

/**
 * Settings of the Kafka pipeline, merged from (lowest first) defaults, a YAML/JSON file, FAIRUSE_* environment
 * variables and CLI flags, then validated as a whole so every mistake is reported with where it is.
 */

const HostPort = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,252})):\d{1,5}$/, { message: 'expected HOST:PORT, e.g. 127.0.0.1:9092', abort: true })
  .refine((s) => {
    const port = Number(s.slice(s.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'port must be 1-65535');

/** Kafka's own limit is 249 legal characters; the prefix leaves room for the longest suffix. */
const TopicPrefix = z.string().regex(/^[A-Za-z0-9._-]{0,200}$/, 'only letters, digits, ".", "_" and "-", at most 200');
const TopicName = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name: letters, digits, ".", "_" and "-"');

const Sasl = z.discriminatedUnion('mechanism', [
  z.object({ mechanism: z.literal('plain'), username: z.string().min(1), password: z.string().min(1) }).strict(),
  z.object({ mechanism: z.literal('scram-sha-256'), username: z.string().min(1), password: z.string().min(1) }).strict(),
  z.object({ mechanism: z.literal('scram-sha-512'), username: z.string().min(1), password: z.string().min(1) }).strict(),
]);

const Tls = z.union([
  z.boolean(),
  z
    .object({
      /** PEM files; read when the client is created. */
      caFile: z.string().min(1).optional(),
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
      rejectUnauthorized: z.boolean().default(true),
      servername: z.string().min(1).optional(),
    })
    .strict(),
]);

const Ms = (min: number, max: number) => z.number().int().min(min).max(max);

export const KafkaConfigSchema = z
  .object({
    brokers: z.array(HostPort).min(1, 'at least one broker is needed (--brokers or FAIRUSE_KAFKA_BROKERS)'),
    clientId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" and "-", at most 64').default('fairuse'),
    topicPrefix: TopicPrefix.default('fairuse.'),
    /** The platform's generation event topic; default `<prefix>events`. */
    eventsTopic: TopicName.optional(),
    /** Support commands (appeals, manual actions); default `<prefix>commands`. */
    commandsTopic: TopicName.optional(),
    partitions: z.number().int().min(1).max(10_000).default(6),
    replicationFactor: z.number().int().min(1).max(16).default(1),
    ssl: Tls.default(false),
    sasl: Sasl.optional(),
    connectionTimeoutMs: Ms(100, 120_000).default(3_000),
    consumer: z
      .object({
        /** The broker must allow it (group.min/max.session.timeout.ms, 6 s to 30 min by default). */
        sessionTimeoutMs: Ms(1_000, 1_800_000).default(30_000),
        heartbeatIntervalMs: Ms(100, 600_000).default(3_000),
        rebalanceTimeoutMs: Ms(1_000, 1_800_000).default(60_000),
        /** Bounds one batch per partition: the unit of work, and how far repartitioned streams drift apart. */
        maxBytesPerPartition: z.number().int().min(1024).max(64 * 1024 * 1024).default(512 * 1024),
        maxBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(8 * 1024 * 1024),
        maxWaitMs: Ms(1, 10_000).default(100),
      })
      .strict()
      .prefault({}),
    checkpoint: z
      .object({
        /** How often dirty partition state is checkpointed and its offsets committed. */
        intervalMs: Ms(50, 3_600_000).default(5_000),
        /** Snapshots are split into records of at most this size. */
        chunkBytes: z.number().int().min(1024).max(4 * 1024 * 1024).default(1024 * 1024),
      })
      .strict()
      .prefault({}),
    fanout: z
      .object({
        /**
         * How far the repartitioned streams of different account partitions may drift apart in event time (a backlog
         * is consumed batch by batch per partition); added to the policy's lateness for device/IP windows only.
         */
        allowedSkew: Duration.prefault('6h'),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        /** 0 picks a free port (tests); the bound port is logged. */
        port: z.number().int().min(0).max(65_535).default(9464),
        host: z.string().min(1).default('0.0.0.0'),
      })
      .strict()
      .prefault({}),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type KafkaConfig = z.output<typeof KafkaConfigSchema>;

export class KafkaConfigError extends Error {
  override name = 'KafkaConfigError';
}

/** Environment variables read, and where each lands in the config. */
export const ENV_KEYS = {
  FAIRUSE_KAFKA_BROKERS: 'brokers (comma-separated HOST:PORT)',
  FAIRUSE_KAFKA_CLIENT_ID: 'clientId',
  FAIRUSE_KAFKA_TOPIC_PREFIX: 'topicPrefix',
  FAIRUSE_KAFKA_EVENTS_TOPIC: 'eventsTopic',
  FAIRUSE_KAFKA_COMMANDS_TOPIC: 'commandsTopic',
  FAIRUSE_KAFKA_PARTITIONS: 'partitions',
  FAIRUSE_KAFKA_REPLICATION_FACTOR: 'replicationFactor',
  FAIRUSE_KAFKA_SSL: 'ssl (true/false)',
  FAIRUSE_KAFKA_SSL_CA_FILE: 'ssl.caFile',
  FAIRUSE_KAFKA_SSL_CERT_FILE: 'ssl.certFile',
  FAIRUSE_KAFKA_SSL_KEY_FILE: 'ssl.keyFile',
  FAIRUSE_KAFKA_SASL_MECHANISM: 'sasl.mechanism (plain, scram-sha-256, scram-sha-512)',
  FAIRUSE_KAFKA_SASL_USERNAME: 'sasl.username',
  FAIRUSE_KAFKA_SASL_PASSWORD: 'sasl.password',
  FAIRUSE_CHECKPOINT_INTERVAL_MS: 'checkpoint.intervalMs',
  FAIRUSE_METRICS_PORT: 'metrics.port',
  FAIRUSE_LOG_LEVEL: 'logLevel',
} as const;

type Raw = Record<string, unknown>;

/** Numbers from the environment stay strings when they are not numbers, so the schema reports them. */
function num(text: string): number | string {
  return /^-?\d+$/.test(text.trim()) ? Number(text) : text;
}

function bool(text: string): boolean | string {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  return text;
}

/** The config fragment the FAIRUSE_* variables describe (unknown FAIRUSE_KAFKA_* names are errors: likely typos). */
export function configFromEnv(env: NodeJS.ProcessEnv): Raw {
  const unknown = Object.keys(env).filter((k) => k.startsWith('FAIRUSE_KAFKA_') && !(k in ENV_KEYS));
  if (unknown.length > 0) throw new KafkaConfigError(`unknown environment variable ${unknown.join(', ')}; known: ${Object.keys(ENV_KEYS).join(', ')}`);
  const e = (k: keyof typeof ENV_KEYS) => env[k];
  const raw: Raw = {};
  const set = (path: string[], value: unknown) => {
    let node = raw;
    for (const p of path.slice(0, -1)) node = (node[p] ??= {}) as Raw;
    node[path[path.length - 1]!] = value;
  };
  const brokers = e('FAIRUSE_KAFKA_BROKERS');
  if (brokers !== undefined) set(['brokers'], splitBrokers(brokers));
  const strings = [
    ['FAIRUSE_KAFKA_CLIENT_ID', ['clientId']],
    ['FAIRUSE_KAFKA_TOPIC_PREFIX', ['topicPrefix']],
    ['FAIRUSE_KAFKA_EVENTS_TOPIC', ['eventsTopic']],
    ['FAIRUSE_KAFKA_COMMANDS_TOPIC', ['commandsTopic']],
    ['FAIRUSE_LOG_LEVEL', ['logLevel']],
  ] as const;
  for (const [k, path] of strings) if (e(k) !== undefined) set([...path], e(k));
  const numbers = [
    ['FAIRUSE_KAFKA_PARTITIONS', ['partitions']],
    ['FAIRUSE_KAFKA_REPLICATION_FACTOR', ['replicationFactor']],
    ['FAIRUSE_CHECKPOINT_INTERVAL_MS', ['checkpoint', 'intervalMs']],
    ['FAIRUSE_METRICS_PORT', ['metrics', 'port']],
  ] as const;
  for (const [k, path] of numbers) if (e(k) !== undefined) set([...path], num(e(k)!));
  const tlsFiles = [
    ['FAIRUSE_KAFKA_SSL_CA_FILE', 'caFile'],
    ['FAIRUSE_KAFKA_SSL_CERT_FILE', 'certFile'],
    ['FAIRUSE_KAFKA_SSL_KEY_FILE', 'keyFile'],
  ] as const;
  if (tlsFiles.some(([k]) => e(k) !== undefined)) {
    for (const [k, field] of tlsFiles) if (e(k) !== undefined) set(['ssl', field], e(k));
  } else if (e('FAIRUSE_KAFKA_SSL') !== undefined) {
    set(['ssl'], bool(e('FAIRUSE_KAFKA_SSL')!));
  }
  if (e('FAIRUSE_KAFKA_SASL_MECHANISM') !== undefined || e('FAIRUSE_KAFKA_SASL_USERNAME') !== undefined || e('FAIRUSE_KAFKA_SASL_PASSWORD') !== undefined) {
    set(['sasl'], { mechanism: e('FAIRUSE_KAFKA_SASL_MECHANISM'), username: e('FAIRUSE_KAFKA_SASL_USERNAME'), password: e('FAIRUSE_KAFKA_SASL_PASSWORD') });
  }
  return raw;
}

export function splitBrokers(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Plain objects merge key by key; anything else (arrays included) replaces. */
function merge(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isPlain(b) && isPlain(v) ? merge(b, v) : v;
  }
  return out;
}

function isPlain(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates merged layers; every problem is listed as `path: message`. */
export function resolveKafkaConfig(...layers: Raw[]): KafkaConfig {
  const merged = layers.reduce(merge, {});
  const result = KafkaConfigSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new KafkaConfigError(`invalid Kafka configuration:\n${lines.join('\n')}`);
  }
  const c = result.data;
  if (c.consumer.heartbeatIntervalMs >= c.consumer.sessionTimeoutMs) {
    throw new KafkaConfigError('invalid Kafka configuration:\n  consumer.heartbeatIntervalMs: must be below consumer.sessionTimeoutMs');
  }
  return c;
}

/** Largest config file read: it is a few lines; anything bigger is a mistake (or hostile). */
const MAX_CONFIG_BYTES = 256 * 1024;

export function parseConfigText(text: string, file: string): Raw {
  if (text.length > MAX_CONFIG_BYTES) throw new KafkaConfigError(`${file}: larger than ${MAX_CONFIG_BYTES} bytes`);
  let raw: unknown;
  try {
    // Aliases could expand a small file into a huge document ("billion laughs"); configs never need them.
    raw = parse(text, { maxAliasCount: 0 });
  } catch (err) {
    throw new KafkaConfigError(`${file}: not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (raw === null || raw === undefined) return {};
  if (!isPlain(raw)) throw new KafkaConfigError(`${file}: expected a mapping of settings at the top level`);
  return raw;
}

export async function readConfigFile(file: string): Promise<Raw> {
  // A FIFO or device would block or never end; only regular files of sane size are read.
  const st = await stat(file);
  if (!st.isFile()) throw new KafkaConfigError(`${file}: not a regular file`);
  if (st.size > MAX_CONFIG_BYTES) throw new KafkaConfigError(`${file}: larger than ${MAX_CONFIG_BYTES} bytes`);
  return parseConfigText(await readFile(file, 'utf8'), file);
}

/** The config as safe to log: secrets replaced. */
export function redacted(c: KafkaConfig): unknown {
  return { ...c, sasl: c.sasl ? { mechanism: c.sasl.mechanism, username: c.sasl.username, password: '[redacted]' } : undefined };
}
