import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { PERSONA_NAMES, isAbusive, LabelSchema, type Evaluation, type Label, type PersonaStats } from './labels.js';

/** n / d, or null when d is 0: a ratio over nothing is undefined, not 0 or 1. */
function ratio(n: number, d: number): number | null {
  return d === 0 ? null : n / d;
}

/**
 * Scores a detector's flagged accounts against the simulation's ground truth: a flagged abuser is a true
 * positive, a flagged human a false positive, an unflagged abuser a false negative.
 */
export function evaluate(labels: readonly Label[], flaggedAccounts: Iterable<string>): Evaluation {
  const flagged = new Set(flaggedAccounts);
  const personas = new Map<Label['persona'], { accounts: number; flagged: number }>();
  let truePositives = 0;
  let falsePositives = 0;
  let falseNegatives = 0;
  let trueNegatives = 0;
  const labelled = new Set<string>();
  for (const { accountId, persona, abusive } of labels) {
    labelled.add(accountId);
    const hit = flagged.has(accountId);
    if (abusive && hit) truePositives++;
    else if (abusive) falseNegatives++;
    else if (hit) falsePositives++;
    else trueNegatives++;
    const stats = personas.get(persona) ?? { accounts: 0, flagged: 0 };
    stats.accounts++;
    if (hit) stats.flagged++;
    personas.set(persona, stats);
  }
  const precision = ratio(truePositives, truePositives + falsePositives);
  const recall = ratio(truePositives, truePositives + falseNegatives);
  const f1 = precision === null || recall === null ? null : ratio(2 * precision * recall, precision + recall);
  const perPersona: PersonaStats[] = PERSONA_NAMES.flatMap((persona) => {
    const stats = personas.get(persona);
    if (!stats) return [];
    return [{ persona, abusive: isAbusive(persona), ...stats, flaggedRate: ratio(stats.flagged, stats.accounts) }];
  });
  return {
    accounts: labels.length,
    abusiveAccounts: truePositives + falseNegatives,
    flagged: truePositives + falsePositives,
    truePositives,
    falsePositives,
    falseNegatives,
    trueNegatives,
    precision,
    recall,
    f1,
    unlabelledFlagged: [...flagged].filter((accountId) => !labelled.has(accountId)).length,
    personas: perPersona,
  };
}

function percent(value: number | null): string {
  return value === null ? 'n/a' : `${(100 * value).toFixed(1)}%`;
}

/** A terminal report: the headline scores, then per persona how many accounts were flagged. */
export function formatEvaluation(e: Evaluation): string {
  const lines = [
    `accounts ${e.accounts} (${e.abusiveAccounts} abusive), flagged ${e.flagged}`,
    `precision ${percent(e.precision)}  recall ${percent(e.recall)}  F1 ${percent(e.f1)}`,
    `TP ${e.truePositives}  FP ${e.falsePositives}  FN ${e.falseNegatives}  TN ${e.trueNegatives}`,
  ];
  if (e.unlabelledFlagged > 0) lines.push(`${e.unlabelledFlagged} flagged account(s) have no label and were ignored`);
  const header = ['persona', 'should be', 'accounts', 'flagged', 'rate'];
  const rows = e.personas.map((p) => [
    p.persona,
    p.abusive ? 'flagged' : 'left alone',
    String(p.accounts),
    String(p.flagged),
    percent(p.flaggedRate),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] as string).length)));
  // Names left-aligned, numbers right-aligned.
  const format = (cells: string[]) =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  lines.push('', format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(format));
  return lines.join('\n');
}

/** Reads `labels.ndjson`; throws naming the file and line of the first bad label. */
export async function readLabels(path: string): Promise<Label[]> {
  const labels: Label[] = [];
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new Error(`${path}:${lineNumber}: not JSON: ${(err as Error).message}`);
    }
    const parsed = LabelSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${path}:${lineNumber}: not a label: ${z.prettifyError(parsed.error)}`);
    labels.push(parsed.data);
  }
  return labels;
}
