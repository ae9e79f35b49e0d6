import { safe } from '../render.js';
import type { CaseResult, ExpectationResult } from './run.js';

const table = (rows: string[][]): string[] => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
};

/** When and why the first strikes happened: what an author needs to see why a "no strike" case struck. */
function strikeNotes(e: ExpectationResult): string[] {
  const shown = e.strikes.slice(0, 3).map((s) => `        ${s.at} ${s.accountId} (${s.mode}): ${s.reason}`);
  return e.strikes.length > 3 ? [...shown, `        … ${e.strikes.length - 3} more`] : shown;
}

/** A failed case as a diff: expected against actual strikes per rule and account, then every strike that happened. */
function failure(r: CaseResult): string[] {
  const rows = [['', 'rule', 'account', 'expected', 'actual'], ...r.expectations.map((e) => [e.ok ? ' ' : '✗', e.rule, `${e.account ?? '(any)'}${e.mode ? ` [${e.mode}]` : ''}`, e.expected, String(e.actual)])];
  const lines = table(rows).map((l) => `      ${l}`);
  const out: string[] = [];
  lines.forEach((l, i) => {
    out.push(l);
    const e = i > 0 ? r.expectations[i - 1]! : undefined;
    if (e && !e.ok && e.kind === 'noStrikes') out.push(...strikeNotes(e));
  });
  const all = Object.entries(r.strikeCounts).map(([k, n]) => `${k} ×${n}`);
  out.push(`      strikes in this case: ${all.length > 0 ? all.join(', ') : 'none'}`);
  const { sent, accepted, duplicates, late } = r.events;
  if (accepted < sent) out.push(`      note: ${sent} events sent, ${accepted} accepted (${duplicates} duplicate, ${late} late)`);
  return out;
}

export function formatCaseResults(results: readonly CaseResult[]): string {
  const out: string[] = [];
  let file = '';
  for (const r of results) {
    if (r.file !== file) out.push((file = r.file));
    out.push(`  ${r.passed ? '✓' : '✗'} ${r.name}${r.passed ? '' : `  (${r.file}:${r.line}:${r.column})`}`);
    if (!r.passed) out.push(...failure(r));
  }
  const failed = results.filter((r) => !r.passed).length;
  out.push('', `${results.length - failed} passed, ${failed} failed (${results.length} cases)`);
  return safe(out.join('\n'));
}
