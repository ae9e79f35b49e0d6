/**
 * CSV that opens cleanly in a spreadsheet: RFC 4180 quoting and CRLF line ends, a UTF-8 byte order mark so Excel
 * reads the encoding right, and formula-injection defence (OWASP): a text cell that a spreadsheet would evaluate
 * gets a leading apostrophe, so an account id like `=HYPERLINK(...)` stays text.
 */
export const CSV_BOM = '\uFEFF';
export const CSV_EOL = '\r\n';

export type CsvValue = string | number | null | undefined;

/** Characters that make a spreadsheet treat a cell as a formula (tab and CR too, per OWASP). */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(cells: readonly CsvValue[]): string {
  return cells.map(csvCell).join(',') + CSV_EOL;
}
