import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Strike, Transition } from '../../src/contract/outputs.js';
import { startKafka, type KafkaBroker } from '../../src/devservers/kafka.js';
import { fairuse } from '../support/cli.js';
import { syntheticEvents } from '../support/kafka-events.js';
import { drained, exportRecords, produceLines, progress, readNdjson, ROOT, testConfig, uniquePrefix, until, WorkerProcess } from '../support/kafka-pipeline.js';

describe('Kafka pipeline across a broker restart', () => {
  afterEach(() => WorkerProcess.killAll());

  it('rides out the broker going down and coming back on the same port: nothing lost, nothing doubled', { timeout: 240_000 }, async () => {
    // A broker of its own: restarting the shared one would disturb the other test files.
    let broker: KafkaBroker = await startKafka({ keepData: true });
    const port = Number(broker.brokers.split(':')[1]);
    const worker: { current?: WorkerProcess } = {};
    try {
      const lines = syntheticEvents({ partitions: 4, ordinary: 30, scrapers: 4, farms: 2, hours: 8 });
      const dir = await mkdtemp(join(tmpdir(), 'kafka-restart-'));
      await writeFile(join(dir, 'events.ndjson'), lines.join('\n') + '\n');
      const embedded = await fairuse(['run', '-i', join(dir, 'events.ndjson'), '-o', join(dir, 'embedded')]);
      expect(embedded.code, embedded.stderr).toBe(0);

      const prefix = uniquePrefix('restart');
      const config = testConfig(broker.brokers, prefix);
      const half = Math.floor(lines.length / 2);
      await produceLines(broker.brokers, config, lines.slice(0, half));
      worker.current = await WorkerProcess.start(broker.brokers, prefix);
      await until(async () => (await progress(broker.brokers, config)).detect!.committed > 0, 60_000, 'the first checkpoint');

      await broker.stop();
      broker = await startKafka({ port, keepData: true });
      await produceLines(broker.brokers, config, lines.slice(half));
      await drained(broker.brokers, config, 180_000);
      worker.current.kill('SIGTERM');
      expect(await worker.current.exited).toBe(0);

      const ids = <T>(records: T[], id: keyof T) => records.map((r) => r[id]).sort();
      const strikes = await exportRecords<Strike>(broker.brokers, config, 'strikes');
      expect(strikes.length).toBeGreaterThan(20);
      expect(ids(strikes, 'strikeId')).toEqual(ids(await readNdjson<Strike>(join(dir, 'embedded/strikes.ndjson')), 'strikeId'));
      const transitions = await exportRecords<Transition>(broker.brokers, config, 'transitions');
      expect(ids(transitions, 'transitionId')).toEqual(ids(await readNdjson<Transition>(join(dir, 'embedded/transitions.ndjson')), 'transitionId'));
    } finally {
      worker.current?.kill('SIGKILL');
      await broker.stop();
      await rm(join(ROOT, '.cache/kafka-data', String(port)), { recursive: true, force: true });
    }
  });
});
