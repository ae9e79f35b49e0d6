import type { Command } from 'commander';
import { runEmbedded } from '../../embedded/run.js';
import { loadPolicy } from '../../policy/load.js';
import { loadRuleDir } from '../../rules/load.js';
import { DEFAULT_POLICY_FILE, DEFAULT_RULES_DIR } from '../defaults.js';
import { formatSummary } from '../summary.js';

export function register(program: Command): void {
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
}
