#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { PolicyError } from '../policy/load.js';
import { RuleLoadError } from '../rules/load.js';
import * as kafka from './commands/kafka.js';
import * as rules from './commands/rules.js';
import * as run from './commands/run.js';
import * as simulate from './commands/simulate.js';
import * as support from './commands/support.js';

const program = new Command('fairuse')
  .description('Fair-use abuse detection for Unlimited Generations: rules, strikes, pause/suspend enforcement')
  .showHelpAfterError()
  .exitOverride();

for (const area of [run, simulate, rules, kafka, support]) area.register(program);

/** Errors people cause (bad flags, files, rules, policy) get a clear message and a non-zero exit, not a stack. */
async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    // Usage mistakes exit 2; errors a command raises itself (command.error) keep the exit code it chose.
    if (err instanceof CommanderError) return err.code === 'commander.error' || err.exitCode === 0 ? err.exitCode : 2;
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
