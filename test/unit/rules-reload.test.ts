import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Strike } from '../../src/contract/outputs.js';
import { Pipeline } from '../../src/engine/pipeline.js';
import { loadRuleDir, RuleLoadError } from '../../src/rules/load.js';
import { RuleReloader, RuleTestsFailedError, watchRules } from '../../src/rules/reload.js';
import type { RuleSet } from '../../src/rules/ruleset.js';
import { ev, testPolicy } from '../support/events.js';

const rule = (threshold: number | string, window = '1m') => `rules:
  - id: burst
    description: d
    severity: low
    mode: enforce
    owner: o
    match: [{ field: type, op: equals, value: generation.requested }]
    conditions:
      - { kind: velocity, window: ${window}, threshold: ${threshold} }
    strike: { points: 1, reason: "{{velocity.observed}} in a minute" }
    cooldown: 1h
`;

/** Resolves with the next value a callback receives, or fails after a bounded wait for the file-system event. */
class Inbox<T> {
  private readonly items: T[] = [];
  private waiter: ((t: T) => void) | undefined;
  readonly push = (t: T): void => {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(t);
    } else this.items.push(t);
  };
  next(what: string, ms = 10_000): Promise<T> {
    const ready = this.items.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms waiting for ${what}`)), ms);
      this.waiter = (t) => {
        clearTimeout(timer);
        resolve(t);
      };
    });
  }
  get pending(): number {
    return this.items.length;
  }
}

const stops: Array<() => void> = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

async function ruleDir(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fairuse-reload-'));
  await writeFile(join(dir, 'rules.yaml'), text);
  return dir;
}

/** A running pipeline wired the way the streaming stage wires it: new sets swapped in, refusals logged and counted. */
async function running(dir: string, opts: { watch?: boolean; pollMs?: number } = {}) {
  const strikes: Strike[] = [];
  const pipeline = new Pipeline(await loadRuleDir(dir), testPolicy(), { strike: (s) => strikes.push(s), shadowStrike: () => {}, transition: () => {}, speed: () => {} });
  const logs: string[] = [];
  const log = pino({ base: null }, new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) }));
  const registry = new Registry();
  const refused = new Counter({ name: 'fairuse_rule_reload_refused_total', help: 'refused rule changes', registers: [registry] });
  const applied = new Inbox<RuleSet>();
  const errors = new Inbox<Error>();
  const reloader = new RuleReloader({
    dir,
    policy: testPolicy(),
    debounceMs: 50,
    pollMs: opts.pollMs ?? 60_000,
    ...(opts.watch === false ? { watch: false } : {}),
    onRules: (set) => {
      pipeline.detection.replaceRules(set);
      applied.push(set);
    },
    onError: (err) => {
      log.error({ err: err.message }, 'rule reload refused; keeping the last good rules');
      refused.inc();
      errors.push(err);
    },
  });
  stops.push(() => reloader.stop());
  await reloader.start();
  await applied.next('the initial rule set');
  let seconds = 0;
  /** `n` requests of an account within one minute of event time, after everything sent before. */
  const burst = (account: string, n: number) => {
    seconds += 3600;
    for (let i = 0; i < n; i++) pipeline.ingest(ev(seconds + i, { accountId: account }));
    return strikes.filter((s) => s.accountId === account).length;
  };
  return { pipeline, reloader, applied, errors, logs, registry, burst };
}

describe('hot reload against a running pipeline', () => {
  it('a lowered threshold takes effect; a broken file is refused and the old rules keep running', async () => {
    const dir = await ruleDir(rule(5));
    const p = await running(dir);
    expect(p.burst('a1', 4)).toBe(0);

    await writeFile(join(dir, 'rules.yaml'), rule(3));
    const lowered = await p.applied.next('the lowered threshold');
    expect(lowered.rules[0]!.spec.conditions[0]).toMatchObject({ threshold: 3 });
    expect(p.burst('a2', 3)).toBe(1);

    await writeFile(join(dir, 'rules.yaml'), rule(2, '5 minutes'));
    const refused = await p.errors.next('the refusal');
    expect(refused).toBeInstanceOf(RuleLoadError);
    expect((refused as RuleLoadError).issues[0]).toMatchObject({ file: join(dir, 'rules.yaml'), line: 9, code: 'duration' });
    // Still threshold 3: two requests do not strike, three do.
    expect(p.burst('a3', 2)).toBe(0);
    expect(p.burst('a4', 3)).toBe(1);
    expect(p.logs.join('')).toMatch(/"level":50.*invalid duration \\"5 minutes\\".*rule reload refused/);
    expect(await p.registry.getSingleMetricAsString('fairuse_rule_reload_refused_total')).toMatch(/ 1$/);

    // Fixing the file recovers.
    await writeFile(join(dir, 'rules.yaml'), rule(2));
    await p.applied.next('the fixed file');
    expect(p.burst('a5', 2)).toBe(1);
  });

  it('a change that breaks the directory\'s rule tests is refused like an invalid file', async () => {
    const dir = await ruleDir(rule(3));
    await writeFile(join(dir, 'rules.test.yaml'), 'cases:\n  - name: three strike\n    events: [{ repeat: { every: 1s, times: 3 } }]\n    expect: { strikes: [{ rule: burst, account: acc-1 }] }\n');
    const p = await running(dir);
    await writeFile(join(dir, 'rules.yaml'), rule(10));
    const err = await p.errors.next('the failing test');
    expect(err).toBeInstanceOf(RuleTestsFailedError);
    expect(err.message).toMatch(/"three strike"/);
    expect(p.burst('a1', 3)).toBe(1);
  });

  it('an empty rule file (one caught mid-write) is refused rather than dropping every rule', async () => {
    const dir = await ruleDir(rule(3));
    const p = await running(dir, { watch: false });
    await writeFile(join(dir, 'rules.yaml'), '');
    await p.reloader.check();
    expect(((await p.errors.next('the refusal')) as RuleLoadError).issues[0]).toMatchObject({ code: 'file.empty' });
    expect(p.burst('a1', 3)).toBe(1);
  });

  it('a FIFO dropped into the directory is refused without hanging, and reported once however often it is polled', async () => {
    const dir = await ruleDir(rule(3));
    const p = await running(dir, { watch: false });
    execFileSync('mkfifo', [join(dir, 'evil.yaml')]);
    for (let i = 0; i < 3; i++) await p.reloader.check();
    expect(((await p.errors.next('the refusal')) as RuleLoadError).issues[0]).toMatchObject({ code: 'file.not-regular' });
    expect(p.errors.pending).toBe(0);
    expect(p.burst('a1', 3)).toBe(1);
  });

  it('works by polling alone where fs.watch is unavailable', async () => {
    const dir = await ruleDir(rule(5));
    const p = await running(dir, { watch: false, pollMs: 100 });
    await writeFile(join(dir, 'rules.yaml'), rule(2));
    await p.applied.next('the polled change');
    expect(p.burst('a1', 2)).toBe(1);
  });

  it('the same content is not applied twice, and a stopped reloader reports nothing', async () => {
    const dir = await ruleDir(rule(5));
    const p = await running(dir, { watch: false });
    await p.reloader.check();
    expect(p.applied.pending).toBe(0);
    p.reloader.stop();
    await writeFile(join(dir, 'rules.yaml'), rule(2, 'bad'));
    await p.reloader.check();
    expect(p.applied.pending + p.errors.pending).toBe(0);
  });

  it('watchRules: the current set at once, then refusals through onError; a missing directory is an error, not a crash', async () => {
    const dir = await ruleDir(rule(5));
    const applied = new Inbox<RuleSet>();
    const errors = new Inbox<Error>();
    stops.push(watchRules(dir, testPolicy(), applied.push, errors.push));
    expect((await applied.next('the initial set')).rules.map((r) => r.spec.id)).toEqual(['burst']);
    await rm(dir, { recursive: true });
    stops.push(watchRules(dir, testPolicy(), applied.push, errors.push));
    expect(((await errors.next('ENOENT')) as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});
