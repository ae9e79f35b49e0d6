import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Case } from '../../contract/outputs.js';
import { runEmbedded } from '../../embedded/run.js';
import { loadPolicy } from '../../policy/load.js';
import { loadRuleDir } from '../../rules/load.js';
import { evaluate, formatEvaluation, readLabels } from '../../simulate/evaluate.js';
import { writeSimulation } from '../../simulate/write.js';
import { DEFAULT_POLICY_FILE, DEFAULT_RULES_DIR } from '../defaults.js';
import { wholeNumber } from '../options.js';
import { formatSummary } from '../summary.js';

/** Accounts with a case: the accounts the run flagged (a case opens with the first enforced strike). */
async function flaggedAccounts(casesFile: string): Promise<string[]> {
  const text = await readFile(casesFile, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const parsed = Case.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${casesFile}:${i + 1}: not a case record: ${parsed.error.issues[0]?.message}`);
      return parsed.data.accountId;
    });
}

interface SimulateFlags {
  accounts: number;
  days: number;
  seed: number;
  out: string;
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description('generate labelled synthetic traffic (people and abusers) as NDJSON events plus labels')
    .requiredOption('-a, --accounts <n>', 'number of accounts', wholeNumber(1, 10_000_000))
    .requiredOption('-d, --days <n>', 'number of days', wholeNumber(1, 366))
    .requiredOption('-o, --out <dir>', 'directory for events.ndjson and labels.ndjson')
    .option('-s, --seed <n>', 'random seed (same seed, same traffic)', wholeNumber(0, 0xffff_ffff), 1)
    .action(async (o: SimulateFlags) => {
      const files = await writeSimulation({ accounts: o.accounts, days: o.days, seed: o.seed, out: o.out });
      console.log(`${files.events.toLocaleString('en-US')} events for ${files.accounts} accounts → ${files.path}\nlabels → ${files.labelsPath}`);
    });

  program
    .command('evaluate')
    .description('precision, recall and false positives per persona of a run against simulation labels')
    .requiredOption('-l, --labels <file>', 'labels.ndjson from `fairuse simulate`')
    .requiredOption('-c, --cases <file>', 'cases.ndjson from `fairuse run`')
    .option('--json', 'print the evaluation as JSON')
    .action(async (o: { labels: string; cases: string; json?: boolean }) => {
      const result = evaluate(await readLabels(o.labels), await flaggedAccounts(o.cases));
      console.log(o.json ? JSON.stringify(result, null, 2) : formatEvaluation(result));
    });

  program
    .command('demo')
    .description('end to end on synthetic traffic: simulate, run the default rule pack embedded, evaluate')
    .option('-a, --accounts <n>', 'number of accounts', wholeNumber(1, 1_000_000), 500)
    .option('-d, --days <n>', 'number of days', wholeNumber(1, 60), 3)
    .option('-s, --seed <n>', 'random seed', wholeNumber(0, 0xffff_ffff), 1)
    .option('-o, --out <dir>', 'working directory', 'out/demo')
    .action(async (o: SimulateFlags) => {
      console.log(`simulating ${o.accounts} accounts × ${o.days} days (seed ${o.seed})…`);
      const sim = await writeSimulation({ accounts: o.accounts, days: o.days, seed: o.seed, out: join(o.out, 'input') });
      const [rules, policy] = await Promise.all([loadRuleDir(DEFAULT_RULES_DIR), loadPolicy(DEFAULT_POLICY_FILE)]);
      const runDir = join(o.out, 'run');
      const summary = await runEmbedded({ input: sim.path, out: runDir, rules, policy, progress: true });
      console.log(`\n${formatSummary(summary, runDir)}\n`);
      const result = evaluate(await readLabels(sim.labelsPath), await flaggedAccounts(join(runDir, 'cases.ndjson')));
      console.log(formatEvaluation(result));
    });
}
