import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPolicy, parsePolicy, PolicyError } from '../../src/policy/load.js';

const POLICY_FILE = fileURLToPath(new URL('../../rules/policy.yaml', import.meta.url));
const FILE = 'conf/policy.yaml';

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** The smallest complete policy: only the sections without defaults. */
const minimal = [
  'quota:',
  '  plans:',
  '    unlimited: { image: 300, video: 40 }',
  '  relaxedModels: [imagine-4]',
  'enforcement:',
  '  lookback: 7d',
  '  pauseAt: 10',
  '  suspendAt: 30',
  '  probation: 90d',
];

function policyError(text: string, file = FILE): string {
  let error: unknown;
  try {
    parsePolicy(text, file);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(PolicyError);
  return (error as PolicyError).message;
}

describe('shipped policy', () => {
  it('rules/policy.yaml parses, with durations in milliseconds', async () => {
    const policy = await loadPolicy(POLICY_FILE);
    expect(policy.enforcement.suspendAt).toBeGreaterThanOrEqual(policy.enforcement.pauseAt);
    for (const ms of [policy.time.allowedLateness, policy.time.dedupeHorizon, policy.time.inflightTimeout, policy.enforcement.lookback, policy.enforcement.probation]) {
      expect(Number.isInteger(ms) && ms > 0).toBe(true);
    }
    expect(Object.keys(policy.quota.plans).length).toBeGreaterThan(0);
    expect(parsePolicy(readFileSync(POLICY_FILE, 'utf8'), POLICY_FILE)).toEqual(policy);
  });
});

describe('defaults', () => {
  it('a policy without `time` gets the documented defaults', () => {
    const policy = parsePolicy(yaml(...minimal), FILE);
    expect(policy.time).toEqual({ allowedLateness: 5 * 60_000, dedupeHorizon: 15 * 60_000, inflightTimeout: 15 * 60_000 });
    expect(policy.health).toEqual({});
    expect(policy.enforcement.onAppealUpheld).toBe('paused');
    expect(policy.enforcement).toMatchObject({ lookback: 7 * 86_400_000, pauseAt: 10, suspendAt: 30, probation: 90 * 86_400_000 });
  });

  it('a partial `time` keeps what it sets and defaults the rest', () => {
    const policy = parsePolicy(yaml('time:', '  allowedLateness: 30s', ...minimal), FILE);
    expect(policy.time).toEqual({ allowedLateness: 30_000, dedupeHorizon: 15 * 60_000, inflightTimeout: 15 * 60_000 });
  });

  it('suspendAt equal to pauseAt is allowed', () => {
    const text = yaml(...minimal).replace('suspendAt: 30', 'suspendAt: 10');
    expect(parsePolicy(text, FILE).enforcement).toMatchObject({ pauseAt: 10, suspendAt: 10 });
  });
});

describe('errors name the file and the path', () => {
  it('unknown top-level key', () => {
    const msg = policyError(yaml(...minimal, 'extra: 1'));
    expect(msg).toContain(FILE);
    expect(msg).toContain('extra');
  });

  it('unknown nested key (typo)', () => {
    const msg = policyError(yaml(...minimal).replace('pauseAt: 10', 'pauseAtt: 10'));
    expect(msg).toContain(`${FILE}: enforcement`);
    expect(msg).toContain('pauseAtt');
  });

  it('unknown key inside time', () => {
    const msg = policyError(yaml('time:', '  lateness: 5m', ...minimal));
    expect(msg).toContain(`${FILE}: time`);
    expect(msg).toContain('lateness');
  });

  it('suspendAt < pauseAt', () => {
    const msg = policyError(yaml(...minimal).replace('suspendAt: 30', 'suspendAt: 5'));
    expect(msg).toContain(`${FILE}: enforcement.suspendAt:`);
  });

  it('atLeast > of', () => {
    const msg = policyError(yaml(...minimal, 'health:', '  sustained: { bucket: 1h, minEvents: 60, atLeast: 9, of: 8, throttle: 2h }'));
    expect(msg).toContain(`${FILE}: health.sustained.atLeast:`);
  });

  it.each([
    ['time.allowedLateness', '5 minutes'],
    ['time.dedupeHorizon', '0s'],
    ['time.inflightTimeout', '-1m'],
    ['enforcement.lookback', '7 days'],
    ['enforcement.probation', '90'],
    ['health.concurrency.sustain', '2min'],
  ])('bad duration at %s = %j', (path, value) => {
    const [section, key] = [path.slice(0, path.lastIndexOf('.')), path.slice(path.lastIndexOf('.') + 1)];
    let text: string;
    if (section === 'time') text = yaml('time:', `  ${key}: ${value}`, ...minimal);
    else if (section === 'health.concurrency') text = yaml(...minimal, 'health:', `  concurrency: { cap: 8, ${key}: ${value}, cooldown: 30m }`);
    else text = yaml(...minimal).replace(new RegExp(`${key}: \\S+`), `${key}: ${value}`);
    const msg = policyError(text);
    expect(msg).toContain(`${FILE}: ${path}:`);
  });

  it.each([
    ['unclosed flow sequence', 'quota: [\n'],
    ['nested mapping on one line', 'a: b: c\n'],
    ['duplicate key', yaml(...minimal, 'quota: {}')],
    ['tab indentation', 'quota:\n\tplans: {}\n'],
  ])('not YAML (%s) → PolicyError naming the file', (_name, text) => {
    const msg = policyError(text);
    expect(msg).toContain(FILE);
    expect(msg).toMatch(/yaml/i);
  });

  it.each([
    ['a scalar', 'just a string'],
    ['a list', '[1, 2]'],
    ['empty', ''],
  ])('YAML that is not a policy (%s) → PolicyError naming the file', (_name, text) => {
    expect(policyError(text)).toContain(FILE);
  });

  it('missing required section names it', () => {
    const msg = policyError(yaml(...minimal.slice(0, 4)));
    expect(msg).toContain(`${FILE}: enforcement`);
  });

  it('defaults the file name to policy.yaml', () => {
    let error: unknown;
    try {
      parsePolicy('extra: 1\n');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as Error).message).toContain('policy.yaml');
  });
});
