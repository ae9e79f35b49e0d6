import { describe, expect, it } from 'vitest';
import { configFromEnv, KafkaConfigError, parseConfigText, redacted, resolveKafkaConfig } from '../../src/adapters/kafka/config.js';

const brokers = { brokers: ['127.0.0.1:9092'] };

function problems(...layers: Array<Record<string, unknown>>): string {
  try {
    resolveKafkaConfig(...layers);
  } catch (err) {
    expect(err).toBeInstanceOf(KafkaConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('Kafka configuration', () => {
  it('fills defaults around the brokers', () => {
    const c = resolveKafkaConfig(brokers);
    expect(c).toMatchObject({ clientId: 'fairuse', topicPrefix: 'fairuse.', partitions: 6, replicationFactor: 1, ssl: false, logLevel: 'info' });
    expect(c.checkpoint.intervalMs).toBe(5_000);
    expect(c.fanout.allowedSkew).toBe(6 * 3_600_000);
    expect(c.metrics.port).toBe(9464);
  });

  it('lets the environment override the file and flags override both, merging nested settings', () => {
    const file = { brokers: ['file:1'], partitions: 3, consumer: { maxWaitMs: 500, sessionTimeoutMs: 10_000 } };
    const env = configFromEnv({ FAIRUSE_KAFKA_BROKERS: 'env-a:9092, env-b:9093', FAIRUSE_KAFKA_PARTITIONS: '12', FAIRUSE_LOG_LEVEL: 'warn' });
    const c = resolveKafkaConfig(file, env, { topicPrefix: 'flag.', consumer: { maxWaitMs: 20 } });
    expect(c.brokers).toEqual(['env-a:9092', 'env-b:9093']);
    expect(c.partitions).toBe(12);
    expect(c.logLevel).toBe('warn');
    expect(c.topicPrefix).toBe('flag.');
    expect(c.consumer).toMatchObject({ maxWaitMs: 20, sessionTimeoutMs: 10_000 });
  });

  it('passes SASL and TLS settings through from the environment', () => {
    const c = resolveKafkaConfig(
      brokers,
      configFromEnv({
        FAIRUSE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        FAIRUSE_KAFKA_SASL_USERNAME: 'pipeline',
        FAIRUSE_KAFKA_SASL_PASSWORD: 's3cret',
        FAIRUSE_KAFKA_SSL_CA_FILE: '/etc/ca.pem',
      }),
    );
    expect(c.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'pipeline', password: 's3cret' });
    expect(c.ssl).toEqual({ caFile: '/etc/ca.pem', rejectUnauthorized: true });
    expect(resolveKafkaConfig(brokers, configFromEnv({ FAIRUSE_KAFKA_SSL: 'true' })).ssl).toBe(true);
    expect(JSON.stringify(redacted(c))).not.toContain('s3cret');
  });

  it('refuses malformed and hostile broker lists with the path of each problem', () => {
    expect(problems({})).toContain('brokers: Invalid input');
    expect(problems({ brokers: [] })).toContain('at least one broker');
    for (const bad of ['localhost', 'host:0', 'host:99999', ':9092', 'host:9092;rm -rf /', 'http://host:9092', 'a b:1']) {
      expect(problems({ brokers: [bad] }), bad).toMatch(/brokers\.0: (expected HOST:PORT|port must be 1-65535)/);
    }
    expect(resolveKafkaConfig({ brokers: ['[::1]:9092', 'kafka-0.kafka.svc:9093'] }).brokers).toHaveLength(2);
  });

  it('refuses unknown keys, wrong types, bad names and inconsistent timeouts', () => {
    expect(problems(brokers, { partitons: 3 })).toContain('Unrecognized key: "partitons"');
    expect(problems(brokers, { partitions: 0 })).toContain('partitions');
    expect(problems(brokers, { topicPrefix: '../etc/' })).toContain('topicPrefix');
    expect(problems(brokers, { eventsTopic: 'a topic' })).toContain('eventsTopic');
    expect(problems(brokers, { sasl: { mechanism: 'plain', username: 'u' } })).toContain('sasl.password');
    expect(problems(brokers, { sasl: { mechanism: 'kerberos', username: 'u', password: 'p' } })).toContain('sasl.mechanism');
    expect(problems(brokers, { fanout: { allowedSkew: 'forever' } })).toContain('invalid duration "forever"');
    expect(problems(brokers, { consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 6_000 } })).toContain('heartbeatIntervalMs: must be below');
    expect(problems(brokers, { metrics: { port: 70_000 } })).toContain('metrics.port');
  });

  it('reports environment values that are not numbers or booleans instead of guessing', () => {
    expect(problems(brokers, configFromEnv({ FAIRUSE_KAFKA_PARTITIONS: 'six' }))).toContain('partitions: Invalid input: expected number, received string');
    expect(problems(brokers, configFromEnv({ FAIRUSE_KAFKA_SSL: 'maybe' }))).toContain('ssl');
    expect(problems(brokers, configFromEnv({ FAIRUSE_METRICS_PORT: '80; curl evil' }))).toContain('metrics.port');
  });

  it('refuses unknown FAIRUSE_KAFKA_ variables, which are likely typos', () => {
    expect(() => configFromEnv({ FAIRUSE_KAFKA_BROKER: 'h:1' })).toThrow(/unknown environment variable FAIRUSE_KAFKA_BROKER;/);
    expect(configFromEnv({ PATH: '/bin', FAIRUSE_OTHER: 'x' })).toEqual({});
  });

  it('reads YAML or JSON files and refuses anything else clearly', () => {
    expect(parseConfigText('brokers: [h:1]\npartitions: 2\n', 'c.yaml')).toEqual({ brokers: ['h:1'], partitions: 2 });
    expect(parseConfigText('{"brokers": ["h:1"]}', 'c.json')).toEqual({ brokers: ['h:1'] });
    expect(parseConfigText('', 'empty.yaml')).toEqual({});
    expect(() => parseConfigText('brokers: [h:1', 'c.yaml')).toThrow(/^c\.yaml: not valid YAML or JSON/);
    expect(() => parseConfigText('- a\n- b\n', 'c.yaml')).toThrow('c.yaml: expected a mapping of settings at the top level');
    expect(() => parseConfigText('just text', 'c.yaml')).toThrow('expected a mapping');
    expect(() => parseConfigText('x'.repeat(300 * 1024), 'big.yaml')).toThrow('big.yaml: larger than');
    // A "billion laughs" document: aliases are refused outright.
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]'].join('\n');
    expect(() => parseConfigText(bomb, 'bomb.yaml')).toThrow(/bomb\.yaml: not valid YAML/);
  });
});
