import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { readLines } from '../adapters/file/lines.js';
import { Case } from '../contract/outputs.js';
import { OUTPUT_FILES } from '../embedded/run.js';
import { matchesFilter, summaryOf, type CaseFilter, type CasePage, type CaseQueries, type CaseSummary } from './cases.js';

/** Lines of a run's NDJSON outputs can be large (a case carries all its strikes). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

export class RunOutputError extends Error {
  override name = 'RunOutputError';
}

/** The records of one NDJSON output file of an embedded run, validated against the contract; nothing if it is absent. */
export async function* readRecords<S extends z.ZodType>(file: string, schema: S): AsyncIterable<z.infer<S>> {
  if (!existsSync(file)) return;
  for await (const batch of readLines(createReadStream(file), MAX_LINE_BYTES)) {
    for (const line of batch) {
      if (line.text.trim() === '') continue;
      if (line.truncated) throw new RunOutputError(`${file}:${line.number}: line longer than ${MAX_LINE_BYTES} bytes`);
      let json: unknown;
      try {
        json = JSON.parse(line.text);
      } catch (err) {
        throw new RunOutputError(`${file}:${line.number}: not JSON (${(err as Error).message})`);
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) throw new RunOutputError(`${file}:${line.number}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      yield parsed.data;
    }
  }
}

export function runFile(dir: string, key: keyof typeof OUTPUT_FILES): string {
  return join(dir, OUTPUT_FILES[key]);
}

/** Cases from an embedded run's cases.ndjson, for exports without Elasticsearch. */
export class RunCaseQueries implements CaseQueries {
  private cases: Promise<Case[]> | undefined;

  constructor(private readonly dir: string) {
    if (!existsSync(runFile(dir, 'cases'))) throw new RunOutputError(`${runFile(dir, 'cases')} not found: --from needs the output directory of "fairuse run"`);
  }

  private all(): Promise<Case[]> {
    this.cases ??= (async () => {
      const out: Case[] = [];
      for await (const c of readRecords(runFile(this.dir, 'cases'), Case)) out.push(c);
      return out.sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
    })();
    return this.cases;
  }

  async list(filter: CaseFilter, { page, size }: { page: number; size: number }): Promise<CasePage> {
    const matching = (await this.all()).map(summaryOf).filter((c) => matchesFilter(c, filter));
    matching.sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt));
    return { total: matching.length, page, size, cases: matching.slice((page - 1) * size, page * size) };
  }

  async get(accountId: string): Promise<Case | undefined> {
    return (await this.all()).find((c) => c.accountId === accountId);
  }

  async *scan(filter: CaseFilter): AsyncIterable<CaseSummary> {
    for (const c of await this.all()) {
      const s = summaryOf(c);
      if (matchesFilter(s, filter)) yield s;
    }
  }
}
