import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Command, type DeadLetter } from '../contract/outputs.js';
import type { BadEventReason } from '../contract/parse.js';
import { readEvents } from '../adapters/file/events.js';
import { NdjsonWriter } from '../adapters/file/ndjson-writer.js';
import { EnforcementError } from '../engine/enforcement.js';
import { Pipeline, type PipelineStats } from '../engine/pipeline.js';
import type { Policy } from '../policy/schema.js';
import type { RuleSet } from '../rules/ruleset.js';
import { Progress } from './progress.js';

/** Output files of an embedded run; Kafka topics and Elasticsearch indexes carry the same records. */
export const OUTPUT_FILES = {
  strikes: 'strikes.ndjson',
  shadowStrikes: 'shadow-strikes.ndjson',
  transitions: 'transitions.ndjson',
  quota: 'quota.ndjson',
  cases: 'cases.ndjson',
  deadLetter: 'dead-letter.ndjson',
  summary: 'summary.json',
} as const;

export interface RunOptions {
  /** NDJSON events: a file path, or a readable stream (stdin). */
  input: string | Readable;
  out: string;
  rules: RuleSet;
  policy: Policy;
  /** Optional NDJSON of support commands (appeals, manual actions), applied in event-time order. */
  commands?: string;
  /** Show progress on stderr (only when it is a terminal). */
  progress?: boolean;
}

export interface RunSummary {
  lines: number;
  accepted: number;
  bad: Record<BadEventReason, number>;
  duplicates: number;
  late: number;
  strikesByRule: PipelineStats['strikesByRule'];
  shadowStrikesByRule: PipelineStats['shadowStrikesByRule'];
  transitions: number;
  speedDecisions: number;
  commands: { applied: number; refused: number };
  accounts: { seen: number; active: number; paused: number; suspended: number };
  cases: number;
  seconds: number;
  eventsPerSecond: number;
}

export async function runEmbedded(opts: RunOptions): Promise<RunSummary> {
  const started = performance.now();
  await mkdir(opts.out, { recursive: true });
  const w = Object.fromEntries(
    Object.entries(OUTPUT_FILES)
      .filter(([k]) => k !== 'summary')
      .map(([k, file]) => [k, new NdjsonWriter(join(opts.out, file))]),
  ) as Record<Exclude<keyof typeof OUTPUT_FILES, 'summary'>, NdjsonWriter>;

  const pipeline = new Pipeline(opts.rules, opts.policy, {
    strike: (s) => w.strikes.write(s),
    shadowStrike: (s) => w.shadowStrikes.write(s),
    transition: (t) => w.transitions.write(t),
    speed: (d) => w.quota.write(d),
  });
  const bad: Record<BadEventReason, number> = { oversized: 0, 'not-json': 0, schema: 0 };
  const deadLetter = (d: DeadLetter) => w.deadLetter.write(d);
  const commands = opts.commands ? await readCommands(opts.commands, deadLetter) : [];
  const commandStats = { applied: 0, refused: 0 };
  const applyCommandsUntil = (ts: number) => {
    while (commands.length > 0 && Date.parse(commands[0]!.command.at) <= ts) {
      const { command, raw } = commands.shift()!;
      try {
        pipeline.command(command);
        commandStats.applied++;
      } catch (err) {
        if (!(err instanceof EnforcementError)) throw err;
        commandStats.refused++;
        deadLetter({ reason: 'bad-command', detail: err.message, raw, source: opts.commands });
      }
    }
  };

  const accounts = new Set<string>();
  const progress = new Progress(opts.progress === true);
  let lines = 0;
  for await (const batch of readEvents(opts.input)) {
    for (const line of batch) {
      lines++;
      if (!line.ok) {
        bad[line.reason]++;
        deadLetter({ reason: line.reason, detail: `line ${line.number}: ${line.detail}`, raw: line.raw });
        continue;
      }
      applyCommandsUntil(line.value.ts);
      if (pipeline.ingest(line.value) === 'late') {
        deadLetter({ reason: 'late', detail: `line ${line.number}: occurredAt is behind the watermark by more than the allowed lateness`, raw: line.raw });
      } else {
        accounts.add(line.value.event.accountId);
      }
    }
    progress.update(lines, pipeline.stats);
    for (const writer of Object.values(w)) if (writer.full) await writer.flush();
  }
  applyCommandsUntil(Number.POSITIVE_INFINITY);
  progress.done();

  const cases = pipeline.standings.cases();
  for (const c of cases) w.cases.write(c);
  await Promise.all(Object.values(w).map((writer) => writer.close()));

  const seconds = (performance.now() - started) / 1000;
  const count = (status: string) => cases.filter((c) => c.status === status).length;
  const { stats } = pipeline;
  const summary: RunSummary = {
    lines,
    accepted: stats.accepted,
    bad,
    duplicates: stats.duplicates,
    late: stats.late,
    strikesByRule: stats.strikesByRule,
    shadowStrikesByRule: stats.shadowStrikesByRule,
    transitions: stats.transitions,
    speedDecisions: stats.speedDecisions,
    commands: commandStats,
    accounts: { seen: accounts.size, active: accounts.size - count('paused') - count('suspended'), paused: count('paused'), suspended: count('suspended') },
    cases: cases.length,
    seconds: Math.round(seconds * 1000) / 1000,
    eventsPerSecond: Math.round(lines / seconds),
  };
  const summaryWriter = new NdjsonWriter(join(opts.out, OUTPUT_FILES.summary));
  summaryWriter.write(summary);
  await summaryWriter.close();
  return summary;
}

interface PendingCommand {
  command: Command;
  raw: string;
}

/** Reads support commands; malformed ones are set aside, the rest sorted by time. */
async function readCommands(file: string, deadLetter: (d: DeadLetter) => void): Promise<PendingCommand[]> {
  const out: PendingCommand[] = [];
  for (const raw of (await readFile(file, 'utf8')).split('\n')) {
    if (raw.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      deadLetter({ reason: 'bad-command', detail: `not JSON: ${(err as Error).message}`, raw, source: file });
      continue;
    }
    const parsed = Command.safeParse(json);
    if (!parsed.success) {
      deadLetter({ reason: 'bad-command', detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), raw, source: file });
      continue;
    }
    out.push({ command: parsed.data, raw });
  }
  return out.sort((a, b) => Date.parse(a.command.at) - Date.parse(b.command.at));
}
