import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Strike } from '../../src/contract/outputs.js';
import { requestLine, velocityRuleYaml } from '../support/kafka-events.js';
import { kafkaBrokers } from '../support/kafka.js';
import { exportRecords, produceLines, testConfig, uniquePrefix, until, WorkerProcess } from '../support/kafka-pipeline.js';

const T0 = Date.parse('2026-11-02T09:00:00Z');

/** Ten requests from one account, a second apart, starting `minutes` after T0. */
function burst(accountId: string, minutes: number): string[] {
  return Array.from({ length: 10 }, (_, i) => requestLine(accountId, i, T0 + minutes * 60_000 + i * 1000));
}

describe('rule hot reload in a running `fairuse start`', () => {
  afterEach(() => WorkerProcess.killAll());

  it('applies a good change without a restart, refuses a bad one and keeps the last good rules running', { timeout: 180_000 }, async () => {
    const brokers = await kafkaBrokers();
    const prefix = uniquePrefix('reload');
    const config = testConfig(brokers, prefix);
    const dir = await mkdtemp(join(tmpdir(), 'reload-rules-'));
    await writeFile(join(dir, 'burst.yaml'), velocityRuleYaml(30));
    const worker = await WorkerProcess.start(brokers, prefix, ['--stage', 'detect', '--rules', dir]);
    await worker.port();
    const strikesFor = async (account: string) => (await exportRecords<Strike>(brokers, config, 'strikes')).filter((s) => s.accountId === account);

    // Below the threshold of 30: no strike.
    await produceLines(brokers, config, burst('acc-a', 0));

    // A good change: threshold 5. The running worker picks it up and strikes the next burst.
    await writeFile(join(dir, 'burst.yaml'), velocityRuleYaml(5));
    await until(() => worker.records('rules reloaded').length > 0, 60_000, 'the worker to reload its rules');
    await produceLines(brokers, config, burst('acc-b', 10));
    await until(async () => (await strikesFor('acc-b')).length > 0, 60_000, 'a strike under the reloaded rule');

    // A bad change is refused; the threshold-5 rule keeps striking.
    await writeFile(join(dir, 'burst.yaml'), velocityRuleYaml(5).replace('window: 1m', 'window: 1 minute'));
    await until(() => worker.records('rule reload refused; the previous rules keep running').length > 0, 60_000, 'the bad change to be refused');
    await produceLines(brokers, config, burst('acc-c', 20));
    await until(async () => (await strikesFor('acc-c')).length > 0, 60_000, 'a strike under the last good rules');

    expect(await strikesFor('acc-a')).toEqual([]);
    expect((await strikesFor('acc-b'))[0]!.ruleVersion).toBe((await strikesFor('acc-c'))[0]!.ruleVersion);
    const metrics = await (await fetch(`http://127.0.0.1:${await worker.port()}/metrics`)).text();
    expect(metrics).toMatch(/fairuse_rule_reloads_total\{outcome="applied"\} 1/);
    expect(metrics).toMatch(/fairuse_rule_reloads_total\{outcome="refused"\} 1/);
  });
});
