import { startKafka } from '../../src/devservers/kafka.js';

let started: Promise<string> | undefined;

/**
 * Bootstrap address of the Kafka broker for tests: `$KAFKA_BROKERS` when set (by CI or by
 * kafka-global-setup.ts), otherwise a broker started once for this test process. That broker is
 * killed when the process exits, however it exits (see the watchdog in src/devservers/kafka.ts).
 */
export function kafkaBrokers(): Promise<string> {
  const fromEnv = process.env.KAFKA_BROKERS;
  if (fromEnv) return Promise.resolve(fromEnv);
  started ??= startKafka().then((broker) => broker.brokers);
  return started;
}
