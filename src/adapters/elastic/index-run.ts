import { Command, DeadLetter, SpeedDecision, Strike } from '../../contract/outputs.js';
import { readRecords, runFile } from '../../support/run-output.js';
import type { CaseInput, CaseLedger } from './case-ledger.js';
import type { SinkRecord } from './records.js';
import type { ElasticSink } from './sink.js';

export interface IndexRunStats {
  strikes: number;
  shadowStrikes: number;
  speedDecisions: number;
  deadLetters: number;
  commands: number;
  commandsRefused: number;
  cases: { accounts: number; written: number; unchanged: number; conflicts: number };
  newTransitions: number;
  sink: ElasticSink['stats'];
}

/**
 * Loads an embedded run's output directory into Elasticsearch. Strikes, shadow strikes, speed decisions and dead
 * letters are indexed as they are. Cases and transitions are not copied from the run: the run's enforced strikes
 * (and the same support commands file, if the run had one) are applied to the cases already in the index by the
 * engine, so a second run's strikes continue each account's standing (probation, earlier points) instead of
 * overwriting it. On a fresh index this reproduces the run's own cases and transitions exactly.
 * Running it twice changes nothing: every id is deterministic.
 */
export async function indexRun(dir: string, to: { sink: ElasticSink; ledger: CaseLedger; commandsFile?: string }): Promise<IndexRunStats> {
  const { sink, ledger } = to;
  const inputs: CaseInput[] = [];
  let strikes = 0;
  let shadowStrikes = 0;
  let speedDecisions = 0;
  let deadLetters = 0;
  let commands = 0;

  const copy = async <T>(records: AsyncIterable<T>, record: (value: T) => SinkRecord): Promise<number> => {
    let n = 0;
    for await (const value of records) {
      await sink.write(record(value));
      n++;
    }
    return n;
  };
  for await (const strike of readRecords(runFile(dir, 'strikes'), Strike)) {
    await sink.write({ kind: 'strike', value: strike });
    inputs.push({ kind: 'strike', strike });
    strikes++;
  }
  shadowStrikes = await copy(readRecords(runFile(dir, 'shadowStrikes'), Strike), (value) => ({ kind: 'strike', value }));
  speedDecisions = await copy(readRecords(runFile(dir, 'quota'), SpeedDecision), (value) => ({ kind: 'speed-decision', value }));
  deadLetters = await copy(readRecords(runFile(dir, 'deadLetter'), DeadLetter), (value) => ({ kind: 'dead-letter', value }));
  if (to.commandsFile) {
    for await (const command of readRecords(to.commandsFile, Command)) {
      inputs.push({ kind: 'command', command });
      commands++;
    }
  }

  const cases = await ledger.apply(inputs);
  for (const t of cases.timeline) await sink.write({ kind: 'transition', value: t });
  await sink.flush();
  return {
    strikes,
    shadowStrikes,
    speedDecisions,
    deadLetters,
    commands,
    commandsRefused: cases.commandsRefused,
    cases: { accounts: cases.accounts, written: cases.written, unchanged: cases.unchanged, conflicts: cases.conflicts },
    newTransitions: cases.newTransitions,
    sink: { ...sink.stats },
  };
}
