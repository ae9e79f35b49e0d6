import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { velocityRuleYaml } from '../support/kafka-events.js';
import { kafkaBrokers } from '../support/kafka.js';
import { produceLines, progress, testConfig, uniquePrefix, until, WorkerProcess } from '../support/kafka-pipeline.js';

const T0 = Date.parse('2026-11-02T09:00:00Z');
const EVENTS = 80_000;

/** One per-account rule, so the detect stage has work but no repartition output to add to the measurement. */
const VELOCITY_ONLY = velocityRuleYaml(30);

/** Samples of a metric family from Prometheus text, by label set. */
function samples(text: string, name: string): Array<{ labels: string; value: number }> {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((l) => ({ labels: l.slice(name.length, l.lastIndexOf(' ')), value: Number(l.slice(l.lastIndexOf(' ') + 1)) }));
}

describe('Kafka pipeline operations', () => {
  afterEach(() => WorkerProcess.killAll());

  it('works through a backlog several times its memory bound with flat memory, serving /healthz and /metrics', { timeout: 180_000 }, async () => {
    const brokers = await kafkaBrokers();
    const prefix = uniquePrefix('backlog');
    const config = testConfig(brokers, prefix);
    const dir = await mkdtemp(join(tmpdir(), 'kafka-backlog-'));
    await writeFile(join(dir, 'rules.yaml'), VELOCITY_ONLY);
    // ~6 KB per event (a long user agent): a 480 MB backlog.
    const agent = 'Mozilla/5.0 '.repeat(500);
    const events = Array.from({ length: EVENTS }, (_, i) =>
      JSON.stringify({
        eventId: `e-${i}`,
        type: 'generation.requested',
        occurredAt: new Date(T0 + i * 100).toISOString(),
        accountId: `acc-${i % 5}`,
        requestId: `r-${i}`,
        plan: 'unlimited',
        unlimited: true,
        tool: 'image',
        model: 'imagine-4',
        speed: 'relaxed',
        ip: '203.0.113.7',
        userAgent: agent,
      }),
    );
    const backlogBytes = events.reduce((n, e) => n + e.length, 0);
    await produceLines(brokers, config, [...events, 'not json']);

    // A heap limit well below the backlog: buffering it would crash the worker.
    const worker = await WorkerProcess.start(brokers, prefix, ['--stage', 'detect', '--rules', dir], { NODE_OPTIONS: '--max-old-space-size=96' });
    try {
      const base = `http://127.0.0.1:${await worker.port()}`;
      let peakRss = 0;
      let metrics = '';
      await until(
        async () => {
          metrics = await (await fetch(`${base}/metrics`)).text();
          peakRss = Math.max(peakRss, samples(metrics, 'process_resident_memory_bytes')[0]?.value ?? 0);
          const p = await progress(brokers, config);
          return p.detect!.committed === p.detect!.end;
        },
        150_000,
        'the detect stage to work through the backlog',
      );
      // Bounded fetches and flushes: the worker never holds more than a few batches, whatever the backlog.
      expect(peakRss).toBeGreaterThan(0);
      expect(peakRss).toBeLessThan(backlogBytes / 2);

      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      const body = (await health.json()) as { status: string; stages: Record<string, { healthy: boolean; partitions: number[] }> };
      expect(body.status).toBe('ok');
      expect(body.stages.detect!.partitions).toEqual([0, 1, 2, 3]);

      metrics = await (await fetch(`${base}/metrics`)).text();
      expect(samples(metrics, 'fairuse_kafka_events_total').find((s) => s.labels === '{stage="detect",outcome="accepted"}')?.value).toBe(EVENTS);
      expect(samples(metrics, 'fairuse_kafka_dead_letters_total')).toEqual([{ labels: '{stage="detect",reason="not-json"}', value: 1 }]);
      expect(samples(metrics, 'fairuse_kafka_strikes_total').every((s) => s.labels.includes('rule="burst"'))).toBe(true);
      expect(samples(metrics, 'fairuse_kafka_strikes_total').reduce((n, s) => n + s.value, 0)).toBeGreaterThan(0);
      expect(samples(metrics, 'fairuse_kafka_consumer_lag').filter((s) => s.labels.includes('stage="detect"')).map((s) => s.value)).toEqual([0, 0, 0, 0]);
      expect(samples(metrics, 'fairuse_kafka_state_size').some((s) => s.labels.includes('kind="accounts"') && s.value > 0)).toBe(true);
      expect(samples(metrics, 'fairuse_kafka_checkpoint_age_seconds')).toHaveLength(4);

      expect((await fetch(`${base}/nope`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      worker.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
    // Logs are structured JSON throughout.
    expect(worker.logs.filter((l) => l.trim() !== '').every((l) => l.startsWith('{'))).toBe(true);
  });
});
