import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile, readdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { caretLines, renderFinding, renderValidation, safe, validationJson } from '../../src/rules/render.js';
import { counts, validateDir, type Finding } from '../../src/rules/validate.js';

const PACK = fileURLToPath(new URL('../../rules', import.meta.url));
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

async function dirWith(files: Record<string, string>, withPack = false): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fairuse-validate-'));
  if (withPack) for (const f of await readdir(PACK)) if (f.endsWith('.yaml')) await copyFile(join(PACK, f), join(dir, f));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

/** A valid rule at line 2; lines from 7 on vary per test. */
const head = (id = 'r1') => ['rules:', `  - id: ${id}`, '    description: d', '    severity: low', '    mode: shadow', '    owner: o'];
const tail = ['    strike: { points: 5, reason: x }', '    cooldown: 1h'];
const velocity = ['    conditions:', '      - { kind: velocity, window: 1m, threshold: 3 }'];

async function findingsOf(files: Record<string, string>, opts: { strict?: boolean } = {}): Promise<Finding[]> {
  return [...(await validateDir(await dirWith(files), opts)).findings];
}

function one(findings: Finding[], code: string): Finding {
  const hits = findings.filter((f) => f.code === code);
  expect(hits, JSON.stringify(findings, null, 2)).toHaveLength(1);
  return hits[0]!;
}

describe('the shipped pack', () => {
  it('validates without errors or warnings', async () => {
    const v = await validateDir(PACK);
    expect(counts(v).errors).toBe(0);
    expect(v.findings.map((f) => `${f.code} ${f.path}`)).toEqual([]);
    expect(v.tests.cases.length).toBeGreaterThan(40);
  });
});

describe('errors: located, coded, with a plain fix hint', () => {
  it('unknown key → did you mean the nearest allowed key', async () => {
    const f = one(await findingsOf({ 'a.yaml': yaml(...head(), '    conditions:', '      - kind: velocity', '        window: 1m', '        treshold: 3', ...tail) }), 'key.unknown');
    expect(f).toMatchObject({ severity: 'error', line: 10, column: 9, hint: 'did you mean `threshold`?' });
  });

  it('unknown key with nothing close → lists the keys allowed there', async () => {
    const f = one(await findingsOf({ 'a.yaml': yaml(...head(), '    colour: red', ...velocity, ...tail) }), 'key.unknown');
    expect(f.line).toBe(7);
    expect(f.hint).toMatch(/^valid keys here: .*`groupBy`.*`cooldown`/);
  });

  it('wrong type → how to write it', async () => {
    const f = one(await findingsOf({ 'a.yaml': yaml(...head(), ...velocity, '    strike: { points: "5", reason: x }', '    cooldown: 1h') }), 'type');
    expect(f).toMatchObject({ line: 9, column: 23, hint: 'write 5 without quotes' });
  });

  it('a number where a duration belongs → duration examples', async () => {
    const f = one(await findingsOf({ 'a.yaml': yaml(...head(), ...velocity, '    strike: { points: 5, reason: x }', '    cooldown: 60') }), 'type');
    expect(f.hint).toMatch(/30s, 5m, 24h/);
  });

  it('bad duration → duration examples', async () => {
    const f = one(await findingsOf({ 'a.yaml': yaml(...head(), ...velocity, '    strike: { points: 5, reason: x }', '    cooldown: 1h30m') }), 'duration');
    expect(f).toMatchObject({ line: 10, column: 15 });
    expect(f.hint).toMatch(/e\.g\. 500ms, 30s, 5m, 24h, 7d.*90m, not 1h30m/);
  });

  it('unknown event field → did you mean, or the valid fields', async () => {
    const near = one(await findingsOf({ 'a.yaml': yaml(...head(), '    groupBy: acountId', ...velocity, ...tail) }), 'field.unknown');
    expect(near).toMatchObject({ line: 7, column: 14, hint: 'did you mean `accountId`?' });
    const far = one(await findingsOf({ 'a.yaml': yaml(...head(), '    groupBy: colour', ...velocity, ...tail) }), 'field.unknown');
    expect(far.hint).toMatch(/^valid fields: .*`localHour`.*`deviceId`/);
  });

  it('bad enum value → did you mean', async () => {
    const f = one(await findingsOf({ 'a.yaml': yaml(...head().map((l) => l.replace('severity: low', 'severity: hihg')), ...velocity, ...tail) }), 'value.enum');
    expect(f).toMatchObject({ line: 4, hint: 'did you mean `high`?' });
  });

  it('unknown list name → did you mean the declared list', async () => {
    const lists = yaml('lists:', '  carrier_nat: { kind: cidr, items: [100.64.0.0/10] }');
    const rule = yaml(...head(), '    match:', '      - { field: ip, op: not-in-cidr, value: $carier_nat }', ...velocity, ...tail);
    const f = one(await findingsOf({ 'a.yaml': rule, 'lists.yaml': lists }), 'list.unknown');
    expect(f).toMatchObject({ file: expect.stringMatching(/a\.yaml$/), line: 8, hint: 'did you mean `$carrier_nat`?' });
  });

  it('duplicate rule id across files → in the second file, naming the first', async () => {
    const f = one(await findingsOf({ 'a.yaml': yaml(...head(), ...velocity, ...tail), 'b.yaml': yaml(...head(), ...velocity, ...tail) }), 'rule.duplicate-id');
    expect(f).toMatchObject({ file: expect.stringMatching(/b\.yaml$/), line: 2, column: 9 });
    expect(f.message).toMatch(/a\.yaml/);
    expect(f.hint).toMatch(/rename/);
  });

  it('missing key → names it and says to add it', async () => {
    const f = one(await findingsOf({ 'a.yaml': yaml(...head().filter((l) => !l.includes('owner')), ...velocity, ...tail) }), 'key.missing');
    expect(f).toMatchObject({ message: 'missing key "owner"', hint: 'add `owner:` (string)' });
  });

  it('YAML syntax error → yaml.syntax at the spot', async () => {
    const f = one(await findingsOf({ 'a.yaml': 'rules:\n  - id: : x\n' }), 'yaml.syntax');
    expect(f).toMatchObject({ line: 2 });
    expect(f.hint).toMatch(/indentation/);
  });

  it('policy errors are located too (duration, unknown key)', async () => {
    const policy = yaml(
      'quota: { plans: {}, relaxedModels: [] }',
      'enforcement:',
      '  lookback: 7 days',
      '  pauseAt: 10',
      '  suspendAt: 30',
      '  probation: 90d',
      '  pauseAtt: 3',
    );
    const findings = await findingsOf({ 'a.yaml': yaml(...head(), ...velocity, ...tail), 'policy.yaml': policy });
    expect(one(findings, 'duration')).toMatchObject({ file: expect.stringMatching(/policy\.yaml$/), line: 3, column: 13 });
    expect(one(findings, 'key.unknown')).toMatchObject({ line: 7, hint: 'did you mean `pauseAt`?' });
  });

  it('a directory without rule files is an error, not a silent pass', async () => {
    one(await findingsOf({ 'notes.txt': 'x' }), 'dir.no-rules');
  });
});

describe('rule test files are validated with the rules', () => {
  const rule = yaml(...head('burst'), ...velocity, ...tail);
  const testFile = (...caseLines: string[]) => yaml('cases:', '  - name: c', ...caseLines);

  it('an unknown rule name → did you mean', async () => {
    const f = one(await findingsOf({ 'a.yaml': rule, 'a.test.yaml': testFile('    events: [{}]', '    expect: { noStrikes: [{ rule: burts }] }') }), 'test.unknown-rule');
    expect(f).toMatchObject({ line: 4, hint: 'did you mean `burst`?' });
  });

  it('an expectation about a rule the case does not run', async () => {
    const two = rule + yaml(...head('other').slice(1), ...velocity, ...tail);
    const f = one(await findingsOf({ 'a.yaml': two, 'a.test.yaml': testFile('    rules: [other]', '    events: [{}]', '    expect: { noStrikes: [{ rule: burst }] }') }), 'test.rule-not-run');
    expect(f.line).toBe(5);
  });

  it('a misspelt event field → did you mean', async () => {
    const f = one(await findingsOf({ 'a.yaml': rule, 'a.test.yaml': testFile('    events:', '      - { event: { acountId: a1 } }', '    expect: { noStrikes: [{ rule: burst }] }') }), 'key.unknown');
    expect(f).toMatchObject({ line: 4, column: 20, hint: 'did you mean `accountId`?' });
  });

  it('an event the contract refuses (a required field removed) → test.events at the item, saying which field', async () => {
    const f = one(await findingsOf({ 'a.yaml': rule, 'a.test.yaml': testFile('    events:', '      - {}', '      - repeat: { every: 1s, times: 3, event: { accountId: null } }', '    expect: { noStrikes: [{ rule: burst }] }') }), 'test.events');
    expect(f.line).toBe(5);
    expect(f.message).toMatch(/event 0 of this repeat is not a valid event: accountId/);
  });

  it('a value the contract refuses inside a repeat → its own message, not a confusing union error', async () => {
    const f = one(await findingsOf({ 'a.yaml': rule, 'a.test.yaml': testFile('    events:', '      - repeat: { every: 1s, times: 3, event: { ip: not-an-ip } }', '    expect: { noStrikes: [{ rule: burst }] }') }), 'value.invalid_format');
    expect(f).toMatchObject({ path: 'cases.0.events.0.repeat.event.ip', line: 4, column: 53 });
  });

  it('a bad time, and a sequence too long to run, are refused before running', async () => {
    const badTime = one(await findingsOf({ 'a.yaml': rule, 'a.test.yaml': testFile('    events: [{ at: "5 minutes later" }]', '    expect: { noStrikes: [{ rule: burst }] }') }), 'value');
    expect(badTime.message).toMatch(/ISO time/);
    const huge = testFile('    events:', '      - repeat: { every: 1s, times: 200000 }', '      - repeat: { every: 1s, times: 200000 }', '    expect: { noStrikes: [{ rule: burst }] }');
    expect(one(await findingsOf({ 'a.yaml': rule, 'a.test.yaml': huge }), 'test.events').message).toMatch(/400000 events, more than 200000/);
    const farFuture = testFile('    events: [{ at: "+99999999999d" }]', '    expect: { noStrikes: [{ rule: burst }] }');
    expect(one(await findingsOf({ 'a.yaml': rule, 'a.test.yaml': farFuture }), 'test.events').message).toMatch(/representable time range/);
  });
});

describe('warnings, and --strict', () => {
  it('an enforced rule without a test case is a warning that --strict makes an error', async () => {
    const rule = yaml(...head().map((l) => l.replace('mode: shadow', 'mode: enforce')), ...velocity, ...tail);
    const loose = await findingsOf({ 'a.yaml': rule });
    expect(one(loose, 'rule.untested')).toMatchObject({ severity: 'warning', line: 2, column: 9 });
    const strict = await findingsOf({ 'a.yaml': rule }, { strict: true });
    expect(one(strict, 'rule.untested').severity).toBe('error');
    const tested = yaml('cases:', '  - name: c', '    events: [{}]', '    expect: { noStrikes: [{ rule: r1 }] }');
    expect((await findingsOf({ 'a.yaml': rule, 'a.test.yaml': tested })).filter((f) => f.code === 'rule.untested')).toEqual([]);
  });

  it('an unused list is a warning at the list name', async () => {
    const lists = yaml('lists:', '  spare: { kind: values, items: [x] }');
    expect(one(await findingsOf({ 'a.yaml': yaml(...head(), ...velocity, ...tail), 'lists.yaml': lists }), 'list.unused')).toMatchObject({ line: 2, column: 3 });
  });
});

describe('hostile files', () => {
  it('a FIFO named like a rule file is refused without hanging', async () => {
    const dir = await dirWith({ 'a.yaml': yaml(...head(), ...velocity, ...tail) });
    execFileSync('mkfifo', [join(dir, 'evil.yaml')]);
    const v = await validateDir(dir);
    expect(v.findings.map((f) => f.code)).toContain('file.not-regular');
    expect(counts(v).errors).toBeGreaterThan(0);
  });

  it('a directory named like a rule file, and a file too large to be rules, are refused', async () => {
    const dir = await dirWith({ 'a.yaml': yaml(...head(), ...velocity, ...tail), 'big.yaml': `# ${'x'.repeat(5 * 1024 * 1024)}\n` });
    await mkdir(join(dir, 'sub.yaml'));
    const codes = (await validateDir(dir)).findings.map((f) => f.code).sort();
    expect(codes).toEqual(['file.not-regular', 'file.too-large']);
  });

  it('an alias bomb in a test file is refused fast', async () => {
    const bomb = yaml('a: &a [x,x,x,x,x,x,x,x,x]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]', 'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]');
    const started = Date.now();
    one(await findingsOf({ 'a.yaml': yaml(...head(), ...velocity, ...tail), 'a.test.yaml': bomb }), 'yaml.aliases');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('__proto__ in a test file pollutes nothing', async () => {
    const test = yaml('cases:', '  - name: c', '    events: [{ event: { __proto__: { polluted: yes } } }]', '    expect: { noStrikes: [{ rule: r1 }] }');
    await findingsOf({ 'a.yaml': yaml(...head(), ...velocity, ...tail), 'a.test.yaml': test });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('rendering', () => {
  const finding: Finding = { severity: 'error', file: 'a.yaml', line: 2, column: 9, path: 'rules.0.x', code: 'key.unknown', message: 'unknown key "x"', hint: 'did you mean `y`?' };

  it('quotes the source line with a caret under the column', () => {
    expect(renderFinding(finding, 'rules:\n  - id: x\n')).toBe(['a.yaml:2:9: error [key.unknown] unknown key "x" (at rules.0.x)', ' 2 |   - id: x', '   |         ^', '  hint: did you mean `y`?'].join('\n'));
  });

  it('keeps tabs so the caret lines up, and cuts a megabyte line around the column', () => {
    expect(caretLines('\tkey: v\n', 1, 2)).toEqual([' 1 | \tkey: v', '   | \t^']);
    const long = `${'a'.repeat(500_000)}X${'b'.repeat(500_000)}`;
    const [line, caret] = caretLines(long, 1, 500_001);
    expect(line!.length).toBeLessThan(200);
    expect(line![caret!.indexOf('^')]).toBe('X');
  });

  it('escapes terminal control sequences and bidi overrides from hostile files', () => {
    const text = 'rules:\n  - id: \u001b[2J\u001b]0;pwned\u0007\u202e\n';
    const out = renderFinding({ ...finding, message: 'bad \u001b[31m', hint: '\r\u202e' }, text);
    expect(out).not.toMatch(/[\u001b\u0007\r\u202e]/);
    expect(out).toContain('\\u001b[2J');
    expect(safe('a\tb\nc')).toBe('a\tb\nc');
  });

  it('text and JSON reports carry the same findings', async () => {
    const v = await validateDir(await dirWith({ 'a.yaml': yaml(...head(), '    groupBy: acountId', ...velocity, ...tail) }));
    expect(renderValidation(v)).toMatch(/1 error\(s\), 0 warning\(s\)$/);
    const json = validationJson(v) as { ok: boolean; findings: Array<Finding & { source: string }> };
    expect(json.ok).toBe(false);
    expect(json.findings[0]).toMatchObject({ code: 'field.unknown', line: 7, source: '    groupBy: acountId', hint: 'did you mean `accountId`?' });
  });
});
