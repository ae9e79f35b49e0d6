import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { pino, type Logger } from 'pino';
import type { KafkaConfig } from './config.js';

export function createLogger(level: KafkaConfig['logLevel'], name = 'fairuse'): Logger {
  // Logs go to stderr so that commands printing results (export, produce) keep stdout clean.
  return pino({ name, level, redact: { paths: ['password', '*.password', 'sasl', '*.sasl.password'], censor: '[redacted]' } }, pino.destination(2));
}

const PINO_LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs logs through pino; its info chatter (joins, commits) is kept at debug to keep operators' logs readable. */
function kafkaLogCreator(log: Logger) {
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...rest } = entry;
      const target = PINO_LEVEL[level] === 'info' ? 'debug' : (PINO_LEVEL[level] ?? 'debug');
      log[target]({ kafkajs: rest }, message);
    };
}

function sasl(c: KafkaConfig): SASLOptions | undefined {
  if (!c.sasl) return undefined;
  return { mechanism: c.sasl.mechanism, username: c.sasl.username, password: c.sasl.password } as SASLOptions;
}

function tls(c: KafkaConfig): KafkaJsConfig['ssl'] {
  if (typeof c.ssl === 'boolean') return c.ssl;
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file, 'utf8'));
  return {
    rejectUnauthorized: c.ssl.rejectUnauthorized,
    ...(c.ssl.caFile ? { ca: [read(c.ssl.caFile)!] } : {}),
    ...(c.ssl.certFile ? { cert: read(c.ssl.certFile)! } : {}),
    ...(c.ssl.keyFile ? { key: read(c.ssl.keyFile)! } : {}),
    ...(c.ssl.servername ? { servername: c.ssl.servername } : {}),
  };
}

/** The kafkajs client for a validated config: brokers, TLS and SASL passed through as they are. */
export function createKafka(c: KafkaConfig, log: Logger): Kafka {
  const auth = sasl(c);
  return new Kafka({
    clientId: c.clientId,
    brokers: c.brokers,
    ssl: tls(c),
    ...(auth ? { sasl: auth } : {}),
    connectionTimeout: c.connectionTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(log),
    // A broker restart takes seconds; retry long enough to ride it out instead of crashing the worker.
    retry: { initialRetryTime: 300, retries: 12, maxRetryTime: 10_000 },
  });
}
