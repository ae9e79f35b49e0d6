import type { Readable } from 'node:stream';
import type { BadEventReason } from '../contract/parse.js';
import type { Strike } from '../contract/outputs.js';
import { Progress } from '../embedded/progress.js';
import type { RunSummary } from '../embedded/run.js';
import { Pipeline } from '../engine/pipeline.js';
import type { Pack } from '../rules/pack.js';
import { readEvents } from '../adapters/file/events.js';

/** The counts `fairuse run` prints, for one rule set over the input: the backtest must agree with them exactly. */
export type SideSummary = Omit<RunSummary, 'commands' | 'seconds' | 'eventsPerSecond'>;

/** What one rule set did to the history. */
export interface SideRun {
  readonly pack: Pack;
  readonly summary: SideSummary;
  /** Strike times per rule (enforced and shadow), for the charts. */
  readonly strikeTimes: ReadonlyMap<string, number[]>;
  /** Per account: enforced points, strikes, rules, first strike, final status. */
  readonly offenders: ReadonlyMap<string, Offender>;
  /** Accounts each rule struck (enforced or shadow). */
  readonly accountsByRule: ReadonlyMap<string, ReadonlySet<string>>;
  /** Accounts with only shadow strikes. */
  readonly shadowOnly: ReadonlySet<string>;
}

export interface Offender {
  points: number;
  strikes: number;
  shadowStrikes: number;
  rules: Set<string>;
  firstStrike: number;
  status: 'active' | 'paused' | 'suspended';
}

class Side {
  readonly pipeline: Pipeline;
  readonly strikeTimes = new Map<string, number[]>();
  readonly offenders = new Map<string, Offender>();
  readonly accountsByRule = new Map<string, Set<string>>();

  constructor(readonly pack: Pack) {
    const record = (s: Strike) => {
      const ts = Date.parse(s.at);
      let times = this.strikeTimes.get(s.ruleId);
      if (!times) this.strikeTimes.set(s.ruleId, (times = []));
      times.push(ts);
      let accounts = this.accountsByRule.get(s.ruleId);
      if (!accounts) this.accountsByRule.set(s.ruleId, (accounts = new Set()));
      accounts.add(s.accountId);
      let o = this.offenders.get(s.accountId);
      if (!o) this.offenders.set(s.accountId, (o = { points: 0, strikes: 0, shadowStrikes: 0, rules: new Set(), firstStrike: ts, status: 'active' }));
      o.rules.add(s.ruleId);
      o.firstStrike = Math.min(o.firstStrike, ts);
      if (s.mode === 'shadow') o.shadowStrikes++;
      else {
        o.strikes++;
        o.points += s.points;
      }
    };
    this.pipeline = new Pipeline(pack.rules, pack.policy, { strike: record, shadowStrike: record, transition: () => {}, speed: () => {} });
  }

  finish(lines: number, bad: Record<BadEventReason, number>, seen: number): SideRun {
    const cases = this.pipeline.standings.cases();
    const count = (status: string) => cases.filter((c) => c.status === status).length;
    for (const [account, o] of this.offenders) o.status = this.pipeline.standings.status(account);
    const s = this.pipeline.stats;
    const summary: SideSummary = {
      lines,
      accepted: s.accepted,
      bad: { ...bad },
      duplicates: s.duplicates,
      late: s.late,
      strikesByRule: { ...s.strikesByRule },
      shadowStrikesByRule: { ...s.shadowStrikesByRule },
      transitions: s.transitions,
      speedDecisions: s.speedDecisions,
      accounts: { seen, active: seen - count('paused') - count('suspended'), paused: count('paused'), suspended: count('suspended') },
      cases: cases.length,
    };
    const shadowOnly = new Set([...this.offenders].filter(([, o]) => o.strikes === 0).map(([a]) => a));
    return { pack: this.pack, summary, strikeTimes: this.strikeTimes, offenders: this.offenders, accountsByRule: this.accountsByRule, shadowOnly };
  }
}

export interface BacktestRun {
  readonly candidate: SideRun;
  readonly baseline: SideRun | undefined;
  /** Event time span of the valid input; undefined when it has no valid event. */
  readonly from: number | undefined;
  readonly to: number | undefined;
}

/** Replays the history once, feeding every event to both rule sets' pipelines, on event time. */
export async function runBacktest(opts: { input: string | Readable; candidate: Pack; baseline?: Pack; progress?: boolean }): Promise<BacktestRun> {
  const sides = [new Side(opts.candidate), ...(opts.baseline ? [new Side(opts.baseline)] : [])];
  const bad: Record<BadEventReason, number> = { oversized: 0, 'not-json': 0, schema: 0 };
  const seen = sides.map(() => new Set<string>());
  const progress = new Progress(opts.progress === true);
  let lines = 0;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for await (const batch of readEvents(opts.input)) {
    for (const line of batch) {
      lines++;
      if (!line.ok) {
        bad[line.reason]++;
        continue;
      }
      from = Math.min(from, line.value.ts);
      to = Math.max(to, line.value.ts);
      sides.forEach((side, i) => {
        if (side.pipeline.ingest(line.value) !== 'late') seen[i]!.add(line.value.event.accountId);
      });
    }
    progress.update(lines, sides[0]!.pipeline.stats);
  }
  progress.done();
  const [candidate, baseline] = sides.map((side, i) => side.finish(lines, bad, seen[i]!.size));
  const span = Number.isFinite(from) ? { from, to } : { from: undefined, to: undefined };
  return { candidate: candidate!, baseline, ...span };
}
