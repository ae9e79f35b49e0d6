import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

type Labels = 'stage' | 'outcome' | 'topic' | 'partition' | 'rule' | 'mode' | 'reason' | 'kind';

/** The pipeline's Prometheus metrics; one registry per worker process. */
export class PipelineMetrics {
  readonly registry = new Registry();
  private readonly counter = <L extends Labels>(name: string, help: string, labelNames: L[]) => new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  private readonly gauge = <L extends Labels>(name: string, help: string, labelNames: L[]) => new Gauge<L>({ name, help, labelNames, registers: [this.registry] });

  readonly events = this.counter('fairuse_kafka_events_total', 'Messages consumed per stage, by outcome (accepted, duplicate, late, bad)', ['stage', 'outcome']);
  readonly lag = this.gauge('fairuse_kafka_consumer_lag', 'Messages between the last processed offset and the partition high watermark', ['stage', 'topic', 'partition']);
  readonly strikes = this.counter(
    'fairuse_kafka_strikes_total',
    'Strikes emitted per rule and mode (replays after a restart count again; consumers dedupe by strikeId)',
    ['stage', 'rule', 'mode'],
  );
  readonly deadLetters = this.counter('fairuse_kafka_dead_letters_total', 'Messages set aside per reason', ['stage', 'reason']);
  readonly stateSize = this.gauge(
    'fairuse_kafka_state_size',
    'Entries held per stage and partition: accounts, keys per grouping field, remembered eventIds, case files',
    ['stage', 'partition', 'kind'],
  );
  readonly checkpointAge = this.gauge('fairuse_kafka_checkpoint_age_seconds', 'Seconds since the partition state was last checkpointed (or restored)', ['stage', 'partition']);
  readonly ruleReloads = this.counter('fairuse_rule_reloads_total', 'Rule directory reloads by outcome (applied, refused)', ['outcome']);
  readonly checkpointBytes = this.gauge('fairuse_kafka_checkpoint_bytes', 'Size of the latest checkpoint of a partition, uncompressed', ['stage', 'partition']);
  /** Filled in just before each scrape, so ages are current. */
  private readonly beforeScrape: Array<() => void> = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  onScrape(update: () => void): void {
    this.beforeScrape.push(update);
  }

  async render(): Promise<string> {
    for (const update of this.beforeScrape) update();
    return this.registry.metrics();
  }
}

export interface Health {
  ok: boolean;
  detail: Record<string, unknown>;
}

/** `/healthz` (200 or 503 with JSON detail) and `/metrics` (Prometheus text) on one port. */
export async function serveOperations(metrics: PipelineMetrics, health: () => Health, port: number, host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: h.ok ? 'ok' : 'unavailable', ...h.detail }));
      return;
    }
    if (path === '/metrics') {
      metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
