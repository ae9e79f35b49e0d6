/**
 * Vitest globalSetup for integration tests: a real Kafka broker and a real Elasticsearch node, started side by side
 * unless KAFKA_BROKERS / ES_URL point at existing ones. Workers inherit the environment set here.
 */
import { startElasticsearch, type ElasticsearchServer } from '../../src/devservers/elasticsearch.js';
import { startKafka, type KafkaBroker } from '../../src/devservers/kafka.js';

let broker: KafkaBroker | undefined;
let es: ElasticsearchServer | undefined;

export async function setup(): Promise<void> {
  const startingKafka = process.env.KAFKA_BROKERS ? undefined : startKafka();
  const startingEs = process.env.ES_URL ? undefined : startElasticsearch();
  // Settle both before failing, so a failure in one does not leave the other running.
  const [k, e] = await Promise.allSettled([startingKafka, startingEs]);
  if (k.status === 'fulfilled' && k.value) broker = k.value;
  if (e.status === 'fulfilled' && e.value) es = e.value;
  if (k.status === 'rejected' || e.status === 'rejected') {
    await teardown();
    throw k.status === 'rejected' ? k.reason : (e as PromiseRejectedResult).reason;
  }
  if (broker) process.env.KAFKA_BROKERS = broker.brokers;
  if (es) process.env.ES_URL = es.url;
}

export async function teardown(): Promise<void> {
  await Promise.all([broker?.stop(), es?.stop()]);
}
