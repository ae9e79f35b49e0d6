import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadSupportConfig } from '../../src/support/config.js';
import { JobScheduler, type JobRun } from '../../src/support/jobs.js';

/** A pino logger whose lines land in an array. */
function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('JobScheduler', () => {
  it('logs exactly one line per run with its outcome and result', async () => {
    const { lines, logger } = captured();
    const s = new JobScheduler(logger);
    s.add({ name: 'export', cron: '0 6 * * *', retries: 0, run: async () => ({ cases: 3 }) });
    const run = await s.runNow('export');
    await tick();
    expect(run).toMatchObject({ job: 'export', outcome: 'ok', attempts: 1, result: { cases: 3 } });
    expect(lines.filter((l) => l.runId === run.runId)).toEqual([expect.objectContaining({ msg: 'job export ok', job: 'export', outcome: 'ok', result: { cases: 3 } })]);
  });

  it('never overlaps a run of the same job: the second one is skipped and logged', async () => {
    const { lines, logger } = captured();
    const s = new JobScheduler(logger);
    let release!: () => void;
    let running = 0;
    let most = 0;
    s.add({
      name: 'slow',
      cron: '0 6 * * *',
      retries: 0,
      run: async () => {
        most = Math.max(most, ++running);
        await new Promise<void>((r) => (release = r));
        running--;
        return {};
      },
    });
    const first = s.runNow('slow');
    await tick();
    const second = await s.runNow('slow');
    expect(second.outcome).toBe('skipped');
    release();
    expect((await first).outcome).toBe('ok');
    expect(most).toBe(1);
    await tick();
    expect(lines.some((l) => l.outcome === 'skipped' && l.level === 40)).toBe(true);
  });

  it('retries a failing run with backoff, then succeeds', async () => {
    const { logger } = captured();
    const s = new JobScheduler(logger);
    let calls = 0;
    s.add({ name: 'flaky', cron: '0 6 * * *', retries: 3, retryDelayMs: 5, run: async () => (++calls < 3 ? Promise.reject(new Error('blip')) : { ok: true }) });
    expect(await s.runNow('flaky')).toMatchObject({ outcome: 'ok', attempts: 3 });
  });

  it('reports a run that still fails after its retries, at error level and to onFailure', async () => {
    const { lines, logger } = captured();
    const failed: JobRun[] = [];
    const s = new JobScheduler(logger, { onFailure: (r) => failed.push(r) });
    s.add({ name: 'broken', cron: '0 6 * * *', retries: 1, retryDelayMs: 5, run: async () => Promise.reject(new Error('disk full')) });
    const run = await s.runNow('broken');
    await tick();
    expect(run).toMatchObject({ outcome: 'failed', attempts: 2, error: 'disk full' });
    expect(failed).toEqual([run]);
    expect(lines.find((l) => l.runId === run.runId && l.level === 50)).toMatchObject({ msg: 'job broken failed', consecutiveFailures: 1 });
  });

  it('runs on its cron schedule, one run at a time, until stopped', async () => {
    const { logger } = captured();
    const s = new JobScheduler(logger);
    let runs = 0;
    let running = 0;
    let most = 0;
    s.add({
      name: 'every-second',
      cron: '* * * * * *',
      retries: 0,
      run: async () => {
        runs++;
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 1300)); // longer than the interval
        running--;
        return {};
      },
    });
    s.start();
    await new Promise((r) => setTimeout(r, 3500));
    await s.stop();
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(most).toBe(1);
  }, 10_000);

  it('refuses an invalid cron expression', () => {
    expect(() => new JobScheduler(captured().logger).add({ name: 'x', cron: 'every day', retries: 0, run: async () => ({}) })).toThrow(/invalid cron/);
  });
});

describe('support config', () => {
  it('reads the file, lets the environment override it, and validates', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'cfg-')), 'support.yaml');
    await writeFile(file, 'elasticsearch: { url: "http://es:9200" }\nhttp: { port: 9000 }\njobs:\n  export: { cron: "0 6 * * *", dir: /tmp/exports }\n  deadLetterRetention: { cron: "30 3 * * *", olderThan: 14d }\n');
    const cfg = await loadSupportConfig(file, { FAIRUSE_HTTP_PORT: '9100', FAIRUSE_INDEX_PREFIX: 'prod' });
    expect(cfg.elasticsearch).toEqual({ url: 'http://es:9200', indexPrefix: 'prod' });
    expect(cfg.http).toMatchObject({ port: 9100, host: '127.0.0.1', entitlementTtl: 2000, maxPageSize: 100 });
    expect(cfg.jobs.export).toMatchObject({ status: 'all', since: '7d', format: 'csv', retries: 3 });
    expect(cfg.jobs.deadLetterRetention?.olderThan).toBe(14 * 86_400_000);
  });
  it('rejects bad cron expressions and unknown keys with the path', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'cfg-')), 'support.yaml');
    await writeFile(file, 'jobs:\n  export: { cron: "at six", dir: x }\n');
    await expect(loadSupportConfig(file, {})).rejects.toThrow(ConfigError);
    await expect(loadSupportConfig(file, {})).rejects.toThrow(/jobs\.export\.cron/);
    await writeFile(file, 'http: { prot: 1 }\n');
    await expect(loadSupportConfig(file, {})).rejects.toThrow(/http/);
  });
});
