import { counts, type Finding, type Validation } from './validate.js';

/**
 * Terminal-safe text: control characters (ANSI escapes, carriage returns) and bidirectional overrides ("Trojan
 * source") in a hostile file are shown as escapes instead of acting on the terminal or hiding text.
 */
export function safe(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Lines are cut around the column beyond this width, so a 1 MB line prints as one readable line. */
const MAX_SHOWN = 160;
const CONTEXT = 70;

/** The offending source line and a caret under the column (tabs kept, so the caret lines up). */
export function caretLines(text: string | undefined, line: number, column: number): string[] {
  if (text === undefined) return [];
  const source = text.split(/\r?\n/)[line - 1];
  if (source === undefined) return [];
  let shown = source;
  let col = Math.max(1, Math.min(column, source.length + 1));
  if (source.length > MAX_SHOWN) {
    const from = Math.max(0, col - 1 - CONTEXT);
    const to = Math.min(source.length, col - 1 + CONTEXT);
    shown = `${from > 0 ? '…' : ''}${source.slice(from, to)}${to < source.length ? '…' : ''}`;
    col = col - from + (from > 0 ? 1 : 0);
  }
  const pad = [...shown.slice(0, col - 1)].map((c) => (c === '\t' ? '\t' : ' ')).join('');
  const gutter = String(line);
  return [` ${gutter} | ${safe(shown)}`, ` ${' '.repeat(gutter.length)} | ${pad}^`];
}

export function renderFinding(f: Finding, text: string | undefined): string {
  const where = [f.ruleId ? `rule "${f.ruleId}"` : '', f.path ? `at ${f.path}` : ''].filter(Boolean).join(', ');
  const head = `${f.file}:${f.line}:${f.column}: ${f.severity} [${f.code}] ${f.message}${where ? ` (${where})` : ''}`;
  return [safe(head), ...caretLines(text, f.line, f.column), ...(f.hint ? [`  hint: ${safe(f.hint)}`] : [])].join('\n');
}

/** One finding as JSON, with the quoted source line for tools that do not read the file. */
export function findingJson(f: Finding, text: string | undefined): Finding & { source?: string } {
  const source = text?.split(/\r?\n/)[f.line - 1];
  return source === undefined ? f : { ...f, source };
}

/** The whole validation as text: each finding with its source line, then a one-line verdict. */
export function renderValidation(v: Validation): string {
  const { errors, warnings } = counts(v);
  const rules = v.rules?.rules.length ?? 0;
  const lists = v.rules?.lists.size ?? 0;
  const verdict = `${v.dir}: ${rules} rule(s), ${lists} list(s), ${v.tests.cases.length} test case(s) in ${v.files} file(s): ${errors} error(s), ${warnings} warning(s)`;
  return [...v.findings.map((f) => `${renderFinding(f, v.sources.get(f.file))}\n`), safe(verdict)].join('\n');
}

export function validationJson(v: Validation): unknown {
  const { errors, warnings } = counts(v);
  return {
    dir: v.dir,
    ok: errors === 0,
    errors,
    warnings,
    rules: v.rules?.rules.map((r) => ({ id: r.spec.id, version: r.version, mode: r.spec.mode, file: r.file })) ?? [],
    testCases: v.tests.cases.length,
    findings: v.findings.map((f) => findingJson(f, v.sources.get(f.file))),
  };
}
