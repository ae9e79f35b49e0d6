import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import { buildReport } from '../../backtest/report.js';
import { renderHtml } from '../../backtest/html.js';
import { runBacktest } from '../../backtest/run.js';
import { checkOutputs, OutputPathError, writeAtomic } from '../../backtest/write.js';
import { formatCaseResults } from '../../rules/cases/report.js';
import { runCase } from '../../rules/cases/run.js';
import { explainAccount, UnknownAccountError } from '../../rules/explain.js';
import { explanationJson, formatExplanation } from '../../rules/explain-format.js';
import { SCHEMA_FILES, schemaFileText, type SchemaFileName } from '../../rules/json-schema.js';
import { RuleLoadError } from '../../rules/load.js';
import { loadPack, loadPolicyFile } from '../../rules/pack.js';
import { renderFinding, renderValidation, safe, validationJson } from '../../rules/render.js';
import { counts, validateDir } from '../../rules/validate.js';
import { formatEvaluation, readLabels } from '../../simulate/evaluate.js';
import { DEFAULT_POLICY_FILE, DEFAULT_RULES_DIR } from '../defaults.js';

type Format = 'text' | 'json';

/** A bad input file the command found (e.g. a labels line that is not a label); its message names file and line. */
class InputFileError extends Error {}
const formatOption = () => new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');

/** Writes and waits until the text is handed to the OS, so an exit right after loses nothing of it. */
const print = (text: string, stream: NodeJS.WriteStream = process.stdout) => new Promise<void>((done) => stream.write(`${text}\n`, () => done()));

/**
 * main.ts turns only its known errors into exit codes, so a command that fails on its own terms (invalid rules,
 * failing tests) prints its report and exits here with 1.
 */
async function exit(code: number): Promise<void> {
  if (code !== 0) process.exit(code);
}

/** Problems people cause (bad files, rules, labels, paths) become a clear message and exit 1, never a stack. */
function guarded<A extends unknown[]>(action: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args) => {
    let code: number;
    try {
      code = await action(...args);
    } catch (err) {
      code = 1;
      if (err instanceof RuleLoadError) {
        const texts = new Map<string, string | undefined>();
        for (const f of new Set(err.issues.map((i) => i.file))) texts.set(f, await readFile(f, 'utf8').catch(() => undefined));
        await print(err.issues.map((i) => renderFinding({ ...i, severity: 'error' }, texts.get(i.file))).join('\n\n'), process.stderr);
      } else if (err instanceof UnknownAccountError || err instanceof OutputPathError || err instanceof InputFileError || typeof (err as NodeJS.ErrnoException).code === 'string') {
        await print(`fairuse: ${safe((err as Error).message)}`, process.stderr);
      } else throw err;
    }
    await exit(code);
  };
}

/** File-system errors keep their code (main-style message); anything else a reader throws is about the content. */
function asInputError(err: unknown): never {
  if (typeof (err as NodeJS.ErrnoException).code === 'string') throw err;
  throw new InputFileError((err as Error).message);
}

/** `--at`: an ISO time with its offset (a bare local time would mean different instants on different machines). */
function isoTime(value: string): number {
  if (!z.iso.datetime({ offset: true }).safeParse(value).success) {
    throw new InvalidArgumentError(`expected an ISO 8601 time with offset such as 2026-11-02T06:00:00Z, got "${value}"`);
  }
  return Date.parse(value);
}

function registerValidate(rules: Command): void {
  rules
    .command('validate')
    .description('check rule files, the policy and rule tests: errors with file:line:column and a fix hint, then warnings')
    .argument('[dir]', 'rule directory', DEFAULT_RULES_DIR)
    .addOption(formatOption())
    .option('--strict', 'treat warnings as errors')
    .action(
      guarded(async (dir: string, o: { format: Format; strict?: boolean }) => {
        const v = await validateDir(dir, { strict: o.strict === true });
        await print(o.format === 'json' ? JSON.stringify(validationJson(v), null, 2) : renderValidation(v));
        return counts(v).errors > 0 ? 1 : 0;
      }),
    );
}

function registerTest(rules: Command): void {
  rules
    .command('test')
    .description('run the *.test.yaml cases of a rule directory through the engine on event time')
    .argument('[dir]', 'rule directory', DEFAULT_RULES_DIR)
    .addOption(formatOption())
    .option('--filter <text>', 'only cases whose name contains the text')
    .action(
      guarded(async (dir: string, o: { format: Format; filter?: string }) => {
        const v = await validateDir(dir);
        const errors = v.findings.filter((f) => f.severity === 'error');
        if (errors.length > 0 || !v.rules) {
          await print(o.format === 'json' ? JSON.stringify({ ok: false, ...(validationJson({ ...v, findings: errors }) as object) }, null, 2) : renderValidation({ ...v, findings: errors }));
          return 1;
        }
        const policy = v.policy ?? (await loadPolicyFile(DEFAULT_POLICY_FILE));
        const cases = v.tests.cases.filter((c) => o.filter === undefined || c.spec.name.includes(o.filter));
        if (o.filter !== undefined && cases.length === 0) {
          await print(`fairuse: no test case name contains "${safe(o.filter)}"`, process.stderr);
          return 1;
        }
        const results = cases.map((c) => runCase(v.rules!, policy, c));
        const failed = results.filter((r) => !r.passed).length;
        await print(o.format === 'json' ? JSON.stringify({ ok: failed === 0, passed: results.length - failed, failed, results }, null, 2) : formatCaseResults(results));
        return failed > 0 ? 1 : 0;
      }),
    );
}

function registerExplain(rules: Command): void {
  rules
    .command('explain')
    .description("explain an account's strikes: which rules matched, counters against thresholds over time, and why")
    .requiredOption('-i, --input <file>', 'NDJSON events (read twice, so a file)')
    .requiredOption('-a, --account <id>', 'the account to explain')
    .option('--at <time>', 'also show each rule\'s state at this ISO time', isoTime)
    .option('-r, --rules <dir>', 'rule directory', DEFAULT_RULES_DIR)
    .option('-p, --policy <file>', 'policy file (default: the rule directory\'s policy.yaml)')
    .addOption(formatOption())
    .action(
      guarded(async (o: { input: string; account: string; at?: number; rules: string; policy?: string; format: Format }) => {
        const pack = await loadPack(o.rules, { ...(o.policy ? { policy: o.policy } : {}), fallbackPolicy: DEFAULT_POLICY_FILE });
        const x = await explainAccount(o.input, o.account, pack, o.at);
        await print(o.format === 'json' ? JSON.stringify(explanationJson(x), null, 2) : formatExplanation(x));
        return 0;
      }),
    );
}

function registerSchema(rules: Command): void {
  rules
    .command('schema')
    .description('write JSON Schemas for rule files, the policy and rule tests (for editors), generated from the loader\'s schemas')
    .option('-o, --out <dir>', 'output directory', join(DEFAULT_RULES_DIR, 'schema'))
    .option('--check', 'write nothing; exit 1 if the files differ from freshly generated ones')
    .action(
      guarded(async (o: { out: string; check?: boolean }) => {
        const stale: string[] = [];
        for (const name of Object.keys(SCHEMA_FILES) as SchemaFileName[]) {
          const file = join(o.out, name);
          const text = schemaFileText(name);
          if (!o.check) await writeAtomic(file, text);
          else if ((await readFile(file, 'utf8').catch(() => undefined)) !== text) stale.push(file);
        }
        await print(o.check ? (stale.length ? `out of date: ${stale.join(', ')} (run fairuse rules schema)` : 'schemas up to date') : `wrote ${Object.keys(SCHEMA_FILES).map((n) => join(o.out, n)).join(', ')}`);
        return stale.length > 0 ? 1 : 0;
      }),
    );
}

function registerBacktest(program: Command): void {
  program
    .command('backtest')
    .description('replay history through a rule set (and a baseline) and write an HTML report with the same figures as JSON')
    .requiredOption('-i, --input <file>', 'NDJSON events')
    .requiredOption('-r, --rules <dir>', 'candidate rule directory')
    .option('-b, --baseline <dir>', 'baseline rule directory to compare with')
    .option('-l, --labels <file>', 'NDJSON ground truth {accountId, persona, abusive} for precision and recall')
    .option('-p, --policy <file>', 'policy for both sides (default: each directory\'s policy.yaml)')
    .requiredOption('--report <file>', 'HTML report to write')
    .option('--json <file>', 'JSON report to write')
    .action(
      guarded(async (o: { input: string; rules: string; baseline?: string; labels?: string; policy?: string; report: string; json?: string }) => {
        const outputs = [o.report, ...(o.json ? [o.json] : [])];
        await checkOutputs(outputs, [o.input, ...(o.labels ? [o.labels] : [])]);
        const policy = { ...(o.policy ? { policy: o.policy } : {}), fallbackPolicy: DEFAULT_POLICY_FILE };
        const [candidate, baseline, labels] = await Promise.all([
          loadPack(o.rules, policy),
          o.baseline ? loadPack(o.baseline, policy) : undefined,
          o.labels ? readLabels(o.labels).catch(asInputError) : undefined,
        ]);
        const run = await runBacktest({ input: o.input, candidate, ...(baseline ? { baseline } : {}), progress: true });
        const report = buildReport(run, o.input, labels);
        await writeAtomic(o.report, renderHtml(report));
        if (o.json) await writeAtomic(o.json, `${JSON.stringify(report, null, 2)}\n`);
        const strikes = (s: Record<string, number>) => Object.values(s).reduce((a, b) => a + b, 0);
        const c = report.candidate;
        const lines = [
          `candidate  ${strikes(c.summary.strikesByRule)} strikes, ${strikes(c.summary.shadowStrikesByRule)} shadow, ${c.flagged} accounts flagged`,
          ...(report.baseline ? [`baseline   ${strikes(report.baseline.summary.strikesByRule)} strikes, ${strikes(report.baseline.summary.shadowStrikesByRule)} shadow, ${report.baseline.flagged} accounts flagged`] : []),
          ...(report.diff ? [`vs baseline: ${report.diff.newlyFlagged.length} newly flagged, ${report.diff.noLongerFlagged.length} no longer flagged`] : []),
          ...(c.evaluation ? ['', formatEvaluation(c.evaluation), ''] : []),
          `wrote ${outputs.join(', ')}`,
        ];
        await print(safe(lines.join('\n')));
        return 0;
      }),
    );
}

export function register(program: Command): void {
  const rules = program.command('rules').description('write, check, test, explain and roll out detection rules');
  registerValidate(rules);
  registerTest(rules);
  registerExplain(rules);
  registerSchema(rules);
  registerBacktest(program);
}
