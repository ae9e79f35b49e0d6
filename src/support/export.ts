import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { CaseSummary } from './cases.js';
import { CSV_BOM, csvLine, type CsvValue } from './csv.js';

export type ExportFormat = 'csv' | 'ndjson';

export const EXPORT_COLUMNS = ['accountId', 'status', 'points', 'rules', 'strikes', 'firstStrikeAt', 'lastStrikeAt', 'appeal', 'updatedAt'] as const;

/** One case as an export row: rule ids joined with `|` (a `;` would split the cell in European spreadsheets). */
export function exportRow(c: CaseSummary): CsvValue[] {
  return [c.accountId, c.status, c.points, c.rules.join('|'), c.strikeCount, c.firstStrikeAt, c.lastStrikeAt, c.appeal.status, c.updatedAt];
}

/** Writes cases as CSV (header, one row per case) or NDJSON (one summary per line); returns how many. */
export async function writeExport(cases: AsyncIterable<CaseSummary>, format: ExportFormat, out: Writable): Promise<number> {
  const put = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  if (format === 'csv') await put(CSV_BOM + csvLine(EXPORT_COLUMNS));
  let n = 0;
  for await (const c of cases) {
    await put(format === 'csv' ? csvLine(exportRow(c)) : `${JSON.stringify(c)}\n`);
    n++;
  }
  return n;
}

/** Exports into a file that appears complete or not at all (written beside it, then renamed). */
export async function writeExportFile(cases: AsyncIterable<CaseSummary>, format: ExportFormat, file: string): Promise<number> {
  const tmp = `${file}.${process.pid}.partial`;
  const out = createWriteStream(tmp);
  try {
    const n = await writeExport(cases, format, out);
    out.end();
    await once(out, 'finish');
    await rename(tmp, file);
    return n;
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}
