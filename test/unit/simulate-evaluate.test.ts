import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, formatEvaluation, readLabels } from '../../src/simulate/evaluate.js';
import { EvaluationSchema, type Label } from '../../src/simulate/labels.js';
import { labelsFor } from '../../src/simulate/simulate.js';
import { writeSimulation } from '../../src/simulate/write.js';

const label = (accountId: string, persona: Label['persona'], abusive: boolean): Label => ({ accountId, persona, abusive });

// 3 abusers (2 automation, 1 scraper) and 5 humans; the detector flags 2 abusers, 1 human and 1 unknown id.
const LABELS: Label[] = [
  label('a1', 'automation', true),
  label('a2', 'automation', true),
  label('s1', 'scraper', true),
  label('c1', 'casual', false),
  label('c2', 'casual', false),
  label('c3', 'casual', false),
  label('p1', 'power-creator', false),
  label('p2', 'power-creator', false),
];
const FLAGGED = ['a1', 's1', 'p1', 'ghost', 'a1'];

describe('evaluate', () => {
  it('computes the confusion matrix, precision, recall and F1', () => {
    const e = evaluate(LABELS, FLAGGED);
    expect(e).toMatchObject({
      accounts: 8,
      abusiveAccounts: 3,
      flagged: 3,
      truePositives: 2,
      falsePositives: 1,
      falseNegatives: 1,
      trueNegatives: 4,
      unlabelledFlagged: 1,
    });
    expect(e.precision).toBeCloseTo(2 / 3);
    expect(e.recall).toBeCloseTo(2 / 3);
    expect(e.f1).toBeCloseTo(2 / 3);
    expect(EvaluationSchema.parse(e)).toEqual(e);
  });

  it('breaks flags down per persona, in persona order', () => {
    expect(evaluate(LABELS, FLAGGED).personas).toEqual([
      { persona: 'casual', abusive: false, accounts: 3, flagged: 0, flaggedRate: 0 },
      { persona: 'power-creator', abusive: false, accounts: 2, flagged: 1, flaggedRate: 0.5 },
      { persona: 'automation', abusive: true, accounts: 2, flagged: 1, flaggedRate: 0.5 },
      { persona: 'scraper', abusive: true, accounts: 1, flagged: 1, flaggedRate: 1 },
    ]);
  });

  it('reports undefined ratios as null rather than a misleading 0 or 1', () => {
    const nothingFlagged = evaluate(LABELS, []);
    expect(nothingFlagged.precision).toBeNull();
    expect(nothingFlagged.recall).toBe(0);
    expect(nothingFlagged.f1).toBeNull();
    const noAbuse = evaluate([label('c1', 'casual', false)], ['c1']);
    expect(noAbuse.precision).toBe(0);
    expect(noAbuse.recall).toBeNull();
  });

  it('formats a readable table', () => {
    const text = formatEvaluation(evaluate(LABELS, FLAGGED));
    expect(text).toContain('precision 66.7%  recall 66.7%  F1 66.7%');
    expect(text).toContain('TP 2  FP 1  FN 1  TN 4');
    expect(text).toContain('1 flagged account(s) have no label');
    expect(text).toMatch(/power-creator\s+left alone\s+2\s+1\s+50\.0%/);
    expect(text).toMatch(/scraper\s+flagged\s+1\s+1\s+100\.0%/);
    expect(formatEvaluation(evaluate(LABELS, []))).toContain('precision n/a');
  });
});

describe('writeSimulation / readLabels', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fairuse-sim-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes events and labels as NDJSON and reads the labels back', async () => {
    const options = { accounts: 40, days: 1, seed: 3 };
    const out = join(dir, 'run');
    const written = await writeSimulation({ ...options, out });
    expect(written).toMatchObject({ accounts: 40, path: join(out, 'events.ndjson'), labelsPath: join(out, 'labels.ndjson') });
    const lines = (await readFile(written.path, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(written.events);
    expect(JSON.parse(lines[0] as string)).toHaveProperty('eventId');
    expect(await readLabels(written.labelsPath)).toEqual(labelsFor(options));
  });

  it('names the file and line of a bad label', async () => {
    const path = join(dir, 'bad-labels.ndjson');
    await writeFile(path, `${JSON.stringify(label('c1', 'casual', false))}\n\n{"accountId":"x","persona":"alien","abusive":true}\n`);
    await expect(readLabels(path)).rejects.toThrow(`${path}:3: not a label`);
    await writeFile(path, 'not json\n');
    await expect(readLabels(path)).rejects.toThrow(`${path}:1: not JSON`);
  });
});
