import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CSV_BOM, csvCell, csvLine } from '../../src/support/csv.js';
import { EXPORT_COLUMNS, exportRow, writeExport } from '../../src/support/export.js';
import type { CaseSummary } from '../../src/support/cases.js';
import { parseCsv } from '../support/elasticsearch.js';

describe('CSV cells', () => {
  it('quotes commas, quotes and line breaks per RFC 4180', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rlf')).toBe('"cr\rlf"');
  });
  it('keeps unicode as it is', () => {
    expect(csvCell('ünïcødé 账户 🎨')).toBe('ünïcødé 账户 🎨');
  });
  it('defuses cells a spreadsheet would run as a formula', () => {
    for (const lead of ['=', '+', '-', '@', '\t', '\r']) expect(csvCell(`${lead}1+1`).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvCell('a=b')).toBe('a=b');
  });
  it('writes numbers as numbers and missing values as empty cells', () => {
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(12)).toBe('12');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell(Number.NaN)).toBe('');
  });
  it('ends lines with CRLF', () => {
    expect(csvLine(['a', 1, undefined])).toBe('a,1,\r\n');
  });
});

describe('case export', () => {
  const summary = (accountId: string, over: Partial<CaseSummary> = {}): CaseSummary => ({
    caseId: `case_${accountId}`,
    accountId,
    status: 'paused',
    points: 12,
    appeal: { status: 'open', at: '2026-11-02T01:00:00.000Z' },
    openedAt: '2026-11-02T00:00:00.000Z',
    updatedAt: '2026-11-02T01:00:00.000Z',
    rules: ['farm-device', 'automation-metronomic-cadence'],
    strikeCount: 3,
    firstStrikeAt: '2026-11-02T00:00:00.000Z',
    lastStrikeAt: '2026-11-02T00:30:00.000Z',
    ...over,
  });
  const exported = async (cases: CaseSummary[], format: 'csv' | 'ndjson') => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const n = await writeExport((async function* () { yield* cases; })(), format, out);
    return { n, text: Buffer.concat(chunks).toString('utf8') };
  };

  it('has the agreed columns, a BOM, and one row per case that round-trips through an RFC 4180 reader', async () => {
    const hostile = ['acc,1', 'acc "2"', 'acc\n3', '=cmd|"/C calc"!A0', '+1', '-1', '@SUM(A1)', 'ünï 账户'];
    const { n, text } = await exported(hostile.map((id) => summary(id)), 'csv');
    expect(n).toBe(hostile.length);
    expect(text.startsWith(CSV_BOM)).toBe(true);
    const [header, ...rows] = parseCsv(text.slice(1));
    expect(header).toEqual(['accountId', 'status', 'points', 'rules', 'strikes', 'firstStrikeAt', 'lastStrikeAt', 'appeal', 'updatedAt']);
    expect(header).toEqual([...EXPORT_COLUMNS]);
    expect(rows.map((r) => r[0])).toEqual(['acc,1', 'acc "2"', 'acc\n3', `'=cmd|"/C calc"!A0`, "'+1", "'-1", "'@SUM(A1)", 'ünï 账户']);
    expect(rows[0]).toEqual(['acc,1', 'paused', '12', 'farm-device|automation-metronomic-cadence', '3', '2026-11-02T00:00:00.000Z', '2026-11-02T00:30:00.000Z', 'open', '2026-11-02T01:00:00.000Z']);
  });

  it('leaves strike times empty for a case opened by a support action', () => {
    expect(exportRow(summary('acc-x', { strikeCount: 0, firstStrikeAt: undefined, lastStrikeAt: undefined, rules: [] }))).toEqual(['acc-x', 'paused', 12, '', 0, undefined, undefined, 'open', '2026-11-02T01:00:00.000Z']);
  });

  it('writes NDJSON summaries, one per line', async () => {
    const { n, text } = await exported([summary('a'), summary('b')], 'ndjson');
    expect(n).toBe(2);
    expect(text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as CaseSummary).accountId)).toEqual(['a', 'b']);
  });
});
