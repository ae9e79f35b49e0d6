import { randomUUID } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';

export interface JobSpec {
  name: string;
  cron: string;
  /** Tries after the first failure, with a doubling pause in between. */
  retries: number;
  /** First pause before a retry; default 5 s. */
  retryDelayMs?: number;
  /** Does the work; what it returns goes into the run's log line. */
  run(): Promise<Record<string, unknown>>;
}

export interface JobRun {
  job: string;
  runId: string;
  outcome: 'ok' | 'failed' | 'skipped';
  attempts: number;
  ms: number;
  result?: Record<string, unknown>;
  error?: string;
}

/**
 * Runs support jobs on cron schedules. A run never overlaps the previous run of the same job (it is skipped and
 * logged instead); a failing run is retried, and every run ends in exactly one log line with its outcome.
 * `onFailure` is where a deployment hooks an alert.
 */
export class JobScheduler {
  private readonly jobs = new Map<string, { spec: JobSpec; task?: ScheduledTask; running: boolean; failures: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly opts: { onFailure?(run: JobRun): void; timezone?: string } = {},
  ) {}

  add(spec: JobSpec): void {
    if (!cron.validate(spec.cron)) throw new Error(`job ${spec.name}: invalid cron expression "${spec.cron}"`);
    if (this.jobs.has(spec.name)) throw new Error(`job ${spec.name} is already scheduled`);
    this.jobs.set(spec.name, { spec, running: false, failures: 0 });
  }

  start(): void {
    for (const [name, job] of this.jobs) {
      const log = this.logger.child({ job: name });
      job.task ??= cron.schedule(job.spec.cron, () => this.runNow(name).then(() => undefined), {
        name,
        noOverlap: true, // belt and braces: runNow also refuses to overlap, for manual runs
        // node-cron's own messages (e.g. an execution blocked by noOverlap) go to our log, not to stderr.
        logger: { info: (m) => log.debug(m), warn: (m) => log.warn(m), error: (m) => log.error(String(m)), debug: (m) => log.debug(String(m)) },
        ...(this.opts.timezone ? { timezone: this.opts.timezone } : {}),
      });
      this.logger.info({ job: name, cron: job.spec.cron, next: job.task.getNextRun()?.toISOString() }, `job ${name} scheduled`);
    }
  }

  async stop(): Promise<void> {
    for (const job of this.jobs.values()) {
      await job.task?.destroy();
      delete job.task;
    }
  }

  /** Runs a job now, as the schedule would; resolves with the run's outcome (never rejects). */
  async runNow(name: string): Promise<JobRun> {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job named ${name}`);
    const runId = randomUUID();
    const started = performance.now();
    if (job.running) {
      const run: JobRun = { job: name, runId, outcome: 'skipped', attempts: 0, ms: 0 };
      this.logger.warn(run, `job ${name} skipped: the previous run is still going`);
      return run;
    }
    job.running = true;
    let attempts = 0;
    try {
      for (;;) {
        attempts++;
        try {
          const result = await job.spec.run();
          job.failures = 0;
          const run: JobRun = { job: name, runId, outcome: 'ok', attempts, ms: Math.round(performance.now() - started), result };
          this.logger.info(run, `job ${name} ok`);
          return run;
        } catch (err) {
          const error = (err as Error).message ?? String(err);
          if (attempts > job.spec.retries) {
            job.failures++;
            const run: JobRun = { job: name, runId, outcome: 'failed', attempts, ms: Math.round(performance.now() - started), error };
            this.logger.error({ ...run, consecutiveFailures: job.failures }, `job ${name} failed`);
            this.opts.onFailure?.(run);
            return run;
          }
          const delay = (job.spec.retryDelayMs ?? 5_000) * 2 ** (attempts - 1);
          this.logger.warn({ job: name, runId, attempt: attempts, delayMs: delay, error }, `job ${name} attempt failed; retrying`);
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    } finally {
      job.running = false;
    }
  }
}
