#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { loadPolicy, PolicyError } from '../policy/load.js';
import { loadRuleDir, RuleLoadError } from '../rules/load.js';
import { runEmbedded } from '../embedded/run.js';
import { DEFAULT_POLICY_FILE, DEFAULT_RULES_DIR } from './defaults.js';
import { formatSummary } from './summary.js';

const program = new Command('fairuse')
  .description('Fair-use abuse detection for Unlimited Generations: rules, strikes, pause/suspend enforcement')
  .showHelpAfterError()
  .exitOverride();

program
  .command('run')
  .description('run the pipeline embedded over NDJSON events and write its decisions as NDJSON files')
  .requiredOption('-i, --input <file>', 'NDJSON events, or - for stdin')
  .requiredOption('-o, --out <dir>', 'directory for strikes, transitions, quota, cases, dead-letter')
  .option('-r, --rules <dir>', 'rule directory', DEFAULT_RULES_DIR)
  .option('-p, --policy <file>', 'policy file', DEFAULT_POLICY_FILE)
  .option('-c, --commands <file>', 'NDJSON support commands (appeals, manual actions) to apply in time order')
  .option('--json', 'print the summary as JSON')
  .action(async (o: { input: string; out: string; rules: string; policy: string; commands?: string; json?: boolean }) => {
    const [rules, policy] = await Promise.all([loadRuleDir(o.rules), loadPolicy(o.policy)]);
    const summary = await runEmbedded({
      input: o.input === '-' ? process.stdin : o.input,
      out: o.out,
      rules,
      policy,
      ...(o.commands ? { commands: o.commands } : {}),
      progress: true,
    });
    console.log(o.json ? JSON.stringify(summary, null, 2) : formatSummary(summary, o.out));
  });

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof RuleLoadError || err instanceof PolicyError) {
      console.error(err.message);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') {
      console.error(`fairuse: ${e.message}`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv);
