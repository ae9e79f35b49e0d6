import { watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import type { Policy } from '../policy/schema.js';
import { isTestFile, loadTests } from './cases/load.js';
import { runCase, type CaseResult } from './cases/run.js';
import { fileIssue } from './located.js';
import { isRuleFile, loadRules, readSources, RuleLoadError } from './load.js';
import { contentHash, type RuleSet } from './ruleset.js';

/** A rule change whose rule tests fail: it is refused like an invalid file. */
export class RuleTestsFailedError extends Error {
  override name = 'RuleTestsFailedError';
  constructor(readonly failed: readonly CaseResult[]) {
    super(`${failed.length} rule test case(s) fail with the changed rules: ${failed.map((r) => `"${r.name}" (${r.file}:${r.line})`).join(', ')}`);
  }
}

export interface ReloaderOptions {
  readonly dir: string;
  /** The policy the engine runs under: the directory's rule tests run with it before a set is accepted. */
  readonly policy: Policy;
  /** A new, valid set whose tests pass: swap it in (between two events). */
  readonly onRules: (rules: RuleSet) => void;
  /** A refused change (RuleLoadError, RuleTestsFailedError) or an unreadable directory; the last good set stays. */
  readonly onError: (error: Error) => void;
  /** Quiet time after the last file event before reloading: editors write a file in several steps. */
  readonly debounceMs?: number;
  /** Polling interval, for filesystems where fs.watch misses changes (network mounts, some containers). */
  readonly pollMs?: number;
  /** Set false where fs.watch is unsupported or unreliable: polling alone then notices changes. */
  readonly watch?: boolean;
}

/**
 * Watches a rule directory and hands over each new rule set only after the whole set validates and its rule tests
 * pass; a bad change is reported and the last good set keeps running.
 */
export class RuleReloader {
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  /** Hash of the files last checked, good or bad: the same content is not checked (or reported) twice. */
  private seen: string | undefined;
  private lastFailure: string | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: ReloaderOptions) {}

  /** Checks the directory now (reporting the current set through onRules or onError), then watches it. */
  start(): Promise<void> {
    if (this.opts.watch !== false) {
      try {
        this.watcher = watch(this.opts.dir, { persistent: false }, () => this.schedule());
        // The watch can die (directory removed, too many watches): polling carries on alone.
        this.watcher.on('error', () => this.closeWatcher());
      } catch {
        this.watcher = undefined;
      }
    }
    this.poll = setInterval(() => void this.check(), this.opts.pollMs ?? 5_000);
    this.poll.unref();
    return this.check();
  }

  stop(): void {
    this.stopped = true;
    this.closeWatcher();
    clearTimeout(this.debounce);
    clearInterval(this.poll);
  }

  private closeWatcher(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.check(), this.opts.debounceMs ?? 250);
    this.debounce.unref();
  }

  /** One check at a time; a change arriving during a check is looked at right after it. */
  check(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.checkOnce().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.check();
      }
    });
    return this.running;
  }

  private async checkOnce(): Promise<void> {
    if (this.stopped) return;
    let next: RuleSet;
    try {
      const sources = await readSources(this.opts.dir, (n) => isRuleFile(n) || isTestFile(n));
      const hash = contentHash(sources);
      if (hash === this.seen) return;
      this.seen = hash;
      next = this.validate(sources);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      // A failure that outlives one poll (a directory gone, a FIFO dropped in) is reported once, not every poll.
      if (error.message !== this.lastFailure) this.report(error);
      this.lastFailure = error.message;
      return;
    }
    this.lastFailure = undefined;
    if (this.stopped) return;
    try {
      this.opts.onRules(next);
    } catch (err) {
      this.report(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private validate(sources: Array<{ file: string; text: string }>): RuleSet {
    // An empty rule file is almost always one caught mid-write (truncated, not yet filled): applying it would drop rules.
    const empty = sources.filter((s) => s.text.trim() === '');
    if (empty.length > 0) throw new RuleLoadError(empty.map((s) => fileIssue(s.file, 'file.empty', 'the file is empty')));
    const rules = loadRules(sources.filter((s) => isRuleFile(basename(s.file))));
    const tests = loadTests(sources.filter((s) => isTestFile(basename(s.file))), rules);
    if (tests.issues.length > 0) throw new RuleLoadError(tests.issues);
    const failed = tests.cases.map((c) => runCase(rules, this.opts.policy, c)).filter((r) => !r.passed);
    if (failed.length > 0) throw new RuleTestsFailedError(failed);
    return rules;
  }

  private report(error: Error): void {
    if (this.stopped) return;
    try {
      this.opts.onError(error);
    } catch {
      // The caller's error handler failing must not take the watcher (or the process) down with it.
    }
  }
}

/**
 * Watches `dir` for rule changes, for the streaming stages: `onRules` receives the current set at once and every
 * valid change after that (call `detection.replaceRules` with it); `onError` receives refused changes. Returns stop.
 */
export function watchRules(dir: string, policy: Policy, onRules: (rules: RuleSet) => void, onError: (error: Error) => void): () => void {
  const reloader = new RuleReloader({ dir, policy, onRules, onError });
  void reloader.start();
  return () => reloader.stop();
}
