import { copyFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Strike } from '../../src/contract/outputs.js';
import { ev } from '../support/events.js';
import { fairuse, ROOT } from '../support/cli.js';

const PACK = join(ROOT, 'rules');

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'fairuse-rules-cli-'));
}

/** A copy of the shipped pack (rules, policy, tests), optionally with extra or replaced files. */
async function packWith(files: Record<string, string> = {}): Promise<string> {
  const dir = await tempDir();
  for (const f of await readdir(PACK)) if (f.endsWith('.yaml')) await copyFile(join(PACK, f), join(dir, f));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const badRule = [
  'rules:',
  '  - id: bad-rule',
  '    description: d',
  '    severity: high',
  '    mode: enforce',
  '    owner: o',
  '    conditions:',
  '      - { kind: velocity, window: 1m, treshold: 3 }',
  '    strike: { points: 1, reason: r }',
  '    cooldown: 5 minutes',
  '',
].join('\n');

/** Events of a metronomic script and a person, as NDJSON. */
function scenario(): string {
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) lines.push(JSON.stringify(ev(i * 30, { accountId: 'acc-bot', deviceId: 'd-bot' }).event));
  for (const s of [100, 400, 2000]) lines.push(JSON.stringify(ev(s, { accountId: 'acc-human', deviceId: 'd-h' }).event));
  return lines.sort((a, b) => (JSON.parse(a).occurredAt < JSON.parse(b).occurredAt ? -1 : 1)).join('\n') + '\n';
}

describe('fairuse rules validate', () => {
  it('passes the shipped pack (exit 0), even under --strict', async () => {
    for (const strict of [[], ['--strict']]) {
      const r = await fairuse(['rules', 'validate', 'rules', ...strict]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/rules: 9 rule\(s\), 2 list\(s\), \d+ test case\(s\) in 10 file\(s\): 0 error\(s\), 0 warning\(s\)\n$/);
    }
  });

  it('reports a warning with exit 0, and --strict turns it into an error: exit 1', async () => {
    const dir = await packWith({ 'zz-spare.yaml': 'lists:\n  spare: { kind: values, items: [x] }\n' });
    const lenient = await fairuse(['rules', 'validate', dir]);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/warning \[list\.unused\] list "spare"/);
    const strict = await fairuse(['rules', 'validate', dir, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/error \[list\.unused\] list "spare"/);
  });

  it('an error names file:line:column, quotes the line with a caret, and gives a hint; exit 1', async () => {
    const dir = await packWith({ 'zz-bad.yaml': badRule });
    const r = await fairuse(['rules', 'validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      [`${join(dir, 'zz-bad.yaml')}:8:39: error [key.unknown] unknown key "treshold" (rule "bad-rule", at rules.0.conditions.0.treshold)`, ' 8 |       - { kind: velocity, window: 1m, treshold: 3 }', '   |                                       ^', '  hint: did you mean `threshold`?'].join('\n'),
    );
    expect(r.stdout).toMatch(/zz-bad\.yaml:10:15: error \[duration\][^\n]*\n 10 \|     cooldown: 5 minutes\n    \|               \^\n  hint: write a whole number and a unit/);
    expect(r.stdout).toMatch(/error \[key\.missing\] missing key "threshold"/);
    expect(r.stdout).toMatch(/3 error\(s\)/);
  });

  it('--format json gives the same findings for tools', async () => {
    const dir = await packWith({ 'zz-bad.yaml': badRule });
    const r = await fairuse(['rules', 'validate', dir, '--format', 'json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ ok: false, errors: 3 });
    expect(json.findings.find((f: { code: string }) => f.code === 'key.unknown')).toMatchObject({ severity: 'error', code: 'key.unknown', line: 8, column: 39, hint: 'did you mean `threshold`?', source: '      - { kind: velocity, window: 1m, treshold: 3 }' });
  });

  it.each([
    [['rules', 'validate', 'rules', '--format', 'xml'], /argument 'xml' is invalid. Allowed choices are text, json/],
    [['rules', 'validate', 'rules', '--stirct'], /unknown option '--stirct'/],
    [['rules', 'validate', 'a', 'b'], /too many arguments/],
    [['rules', 'frobnicate'], /unknown command 'frobnicate'/],
  ])('usage errors exit 2: %j', async (args, message) => {
    const r = await fairuse(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('a missing directory, or a file given as the directory, exits 1 with a message (no stack)', async () => {
    const missing = await fairuse(['rules', 'validate', '/nonexistent/rules']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^fairuse: ENOENT: no such file or directory, scandir '\/nonexistent\/rules'\n$/);
    const file = await fairuse(['rules', 'validate', join(PACK, 'policy.yaml')]);
    expect(file.code).toBe(1);
    expect(file.stderr).toMatch(/^fairuse: ENOTDIR/);
    expect(file.stderr).not.toMatch(/\n\s+at /);
  });

  it('hostile bytes in a rule file never reach the terminal raw', async () => {
    const dir = await packWith({ 'zz-evil.yaml': 'rules:\n  - id: "\u001b]0;owned\u0007\u001b[2J"\n' });
    const r = await fairuse(['rules', 'validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/[\u001b\u0007]/);
    expect(r.stdout).toContain('\\u001b[2J');
  });
});

describe('fairuse rules test', () => {
  it('runs every case of the shipped pack: exit 0', async () => {
    const r = await fairuse(['rules', 'test']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\n(\d+) passed, 0 failed \(\1 cases\)\n$/);
  });

  it('a rule change that breaks a boundary fails with a diff: exit 1', async () => {
    const dir = await packWith();
    const text = await readFile(join(dir, 'scraping.yaml'), 'utf8');
    await writeFile(join(dir, 'scraping.yaml'), text.replace('threshold: 30', 'threshold: 29'));
    const r = await fairuse(['rules', 'test', dir, '--filter', '29 requests']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ 29 requests within a minute do not strike/);
    expect(r.stdout).toMatch(/✗\s+scraping-burst-velocity\s+\(any\)\s+0\s+1/);
    expect(r.stdout).toMatch(/0 passed, 1 failed \(1 cases\)/);
  });

  it('a broken test file is reported like a broken rule file: exit 1, nothing run', async () => {
    const dir = await packWith({
      'zy.test.yaml': 'cases:\n  - name: x\n    events: [{ at: tomorrow }]\n    expect: { noStrikes: [{ rule: scraping-burst-velocity }] }\n',
      'zz.test.yaml': 'cases:\n  - name: x\n    events: [{}]\n    expect: { noStrikes: [{ rule: scraping-burst-velocty }] }\n',
    });
    const r = await fairuse(['rules', 'test', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/zy\.test\.yaml:3:20: error \[value\] expected an ISO time/);
    expect(r.stdout).toMatch(/zz\.test\.yaml:4:35: error \[test\.unknown-rule\][^\n]*\n[^\n]*\n[^\n]*\n  hint: did you mean `scraping-burst-velocity`\?/);
    expect(r.stdout).not.toMatch(/passed/);
  });

  it('a --filter that matches no case is an error, not a silent pass', async () => {
    const r = await fairuse(['rules', 'test', '--filter', 'no such case']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('fairuse: no test case name contains "no such case"\n');
  });

  it('--format json reports each case', async () => {
    const r = await fairuse(['rules', 'test', '--filter', 'casual', '--format', 'json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ ok: true, passed: 1, failed: 0 });
    expect(json.results[0].expectations.length).toBe(9);
  });
});

describe('fairuse rules explain', () => {
  async function input(): Promise<string> {
    const file = join(await tempDir(), 'events.ndjson');
    await writeFile(file, scenario());
    return file;
  }

  it('explains why the script was struck and why other rules did not fire', async () => {
    const r = await fairuse(['rules', 'explain', '-i', await input(), '-a', 'acc-bot', '--at', '2026-11-02T01:00:00Z']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^account acc-bot: 400 event\(s\)/);
    expect(r.stdout).toMatch(/automation-metronomic-cadence {2}\[enforce, high, per accountId, version [0-9a-f]{12}\]\n {2}→ struck 1×/);
    expect(r.stdout).toMatch(/in cooldown until 2026-11-02T12:15:00.000Z/);
    expect(r.stdout).toMatch(/scraping-burst-velocity[^\n]*\n {2}→ below threshold: best velocity 2 < 30/);
    expect(r.stdout).toMatch(/sharing-impossible-travel[^\n]*\n {2}→ below threshold/);
  });

  it('--format json', async () => {
    const r = await fairuse(['rules', 'explain', '-i', await input(), '-a', 'acc-human', '--format', 'json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ account: 'acc-human', events: 3 });
    expect(json.rules.every((x: { verdict: string }) => x.verdict !== 'struck')).toBe(true);
  });

  it.each([
    [['--at', 'yesterday'], /expected an ISO 8601 time/],
    [['--at', '2026-13-45T00:00:00Z'], /expected an ISO 8601 time/],
    [['--at', '2026-11-02T06:00:00'], /with offset/],
    [['--format', 'yaml'], /Allowed choices are text, json/],
  ])('bad flags exit 2: %j', async (extra, message) => {
    const r = await fairuse(['rules', 'explain', '-i', await input(), '-a', 'acc-bot', ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('requires --input and --account (exit 2)', async () => {
    const r = await fairuse(['rules', 'explain', '-i', 'x.ndjson']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/required option '-a, --account <id>'/);
  });

  it('an unknown account, a missing input, a broken rule directory: exit 1 with a clear message', async () => {
    const unknown = await fairuse(['rules', 'explain', '-i', await input(), '-a', 'acc-nobody']);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toMatch(/^fairuse: account "acc-nobody" has no valid events in /);
    const missing = await fairuse(['rules', 'explain', '-i', '/nonexistent.ndjson', '-a', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^fairuse: ENOENT/);
    const broken = await fairuse(['rules', 'explain', '-i', await input(), '-a', 'acc-bot', '-r', await packWith({ 'zz-bad.yaml': badRule })]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/zz-bad\.yaml:8:39: error \[key\.unknown\][^\n]*\n 8 \|[^\n]*\n[^\n]*\^\n  hint: did you mean `threshold`\?/);
  });

  it('hostile input lines are skipped like in `fairuse run`', async () => {
    const file = join(await tempDir(), 'events.ndjson');
    await writeFile(file, `not json\n${'x'.repeat(40_000)}\n{"__proto__":{"polluted":1}}\n${scenario()}`);
    const r = await fairuse(['rules', 'explain', '-i', file, '-a', 'acc-bot']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^account acc-bot: 400 event\(s\)/);
  });
});

describe('fairuse rules schema', () => {
  it('--check passes on the committed files', async () => {
    const r = await fairuse(['rules', 'schema', '--out', 'rules/schema', '--check']);
    expect(r).toMatchObject({ code: 0, stdout: 'schemas up to date\n' });
  });

  it('writes the three files, and --check notices a stale one (exit 1)', async () => {
    const out = await tempDir();
    expect((await fairuse(['rules', 'schema', '--out', out])).code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['policy.schema.json', 'rule-file.schema.json', 'rule-test.schema.json']);
    expect(await readFile(join(out, 'rule-file.schema.json'), 'utf8')).toBe(await readFile(join(PACK, 'schema', 'rule-file.schema.json'), 'utf8'));
    await writeFile(join(out, 'policy.schema.json'), '{}');
    const r = await fairuse(['rules', 'schema', '--out', out, '--check']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/out of date: .*policy\.schema\.json/);
  });

  it('a missing output directory: exit 1, nothing written', async () => {
    const r = await fairuse(['rules', 'schema', '--out', '/nonexistent/schema']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^fairuse: ENOENT/);
  });
});

describe('shadow mode in the embedded run', () => {
  it('shadow strikes go to shadow-strikes.ndjson stamped with the rule version, and never escalate', async () => {
    const dir = await packWith();
    for (const f of ['automation.yaml', 'scraping.yaml', 'sharing.yaml', 'farms.yaml']) {
      await writeFile(join(dir, f), (await readFile(join(dir, f), 'utf8')).replaceAll('mode: enforce', 'mode: shadow'));
    }
    const work = await tempDir();
    await writeFile(join(work, 'events.ndjson'), scenario());
    const r = await fairuse(['run', '-i', join(work, 'events.ndjson'), '-o', join(work, 'out'), '-r', dir, '--json']);
    expect(r.code).toBe(0);
    const shadow = (await readFile(join(work, 'out', 'shadow-strikes.ndjson'), 'utf8')).split('\n').filter(Boolean).map((l) => Strike.parse(JSON.parse(l)));
    // The script never completes a request, so it also keeps ten in flight: 15 shadow points, past pauseAt (10).
    expect(new Set(shadow.map((s) => `${s.ruleId} ${s.mode} ${s.accountId}`))).toEqual(new Set(['automation-metronomic-cadence shadow acc-bot', 'scraping-sustained-concurrency shadow acc-bot']));
    expect(shadow.reduce((n, s) => n + s.points, 0)).toBeGreaterThanOrEqual(10);
    const validated = await fairuse(['rules', 'validate', dir, '--format', 'json']);
    const versions = new Map(JSON.parse(validated.stdout).rules.map((x: { id: string; version: string }) => [x.id, x.version]));
    for (const s of shadow) expect(s.ruleVersion).toBe(versions.get(s.ruleId));
    expect(JSON.parse(r.stdout).accounts).toMatchObject({ paused: 0, suspended: 0 });
    expect(await readFile(join(work, 'out', 'strikes.ndjson'), 'utf8')).toBe('');
    expect(await readFile(join(work, 'out', 'transitions.ndjson'), 'utf8')).toBe('');
  });
});
