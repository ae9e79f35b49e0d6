import { cp, mkdtemp, readFile, writeFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Case, DeadLetter, SpeedDecision, Strike, Transition } from '../../src/contract/outputs.js';
import { ev } from '../support/events.js';
import { fairuse, ROOT } from '../support/cli.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'fairuse-run-'));
}

async function ndjson(file: string): Promise<unknown[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** A metronomic script (every 30s for a day) plus one casual person, as NDJSON with some bad lines mixed in. */
function scenario(): string {
  const lines: string[] = [];
  for (let i = 0; i < 2880; i++) lines.push(JSON.stringify(ev(i * 30, { accountId: 'acc-bot', deviceId: 'd-bot', client: 'api' }).event));
  for (const s of [100, 400, 2000, 2100, 9000]) lines.push(JSON.stringify(ev(s, { accountId: 'acc-human', deviceId: 'd-h' }).event));
  lines.sort((a, b) => (JSON.parse(a).occurredAt < JSON.parse(b).occurredAt ? -1 : 1));
  const dup = lines[10]!;
  lines.splice(20, 0, dup, 'this is not json', '{"eventId":"e-x","type":"generation.exploded"}', 'x'.repeat(20_000), '');
  return lines.join('\n') + '\n';
}

describe('fairuse run (embedded)', () => {
  it('writes every output file with records that match the output contract', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'events.ndjson'), scenario());
    const r = await fairuse(['run', '-i', join(dir, 'events.ndjson'), '-o', join(dir, 'out'), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ accepted: 2885, duplicates: 1, bad: { 'not-json': 1, schema: 1, oversized: 1 } });
    expect(summary.accounts).toMatchObject({ seen: 2, active: 1 });

    const out = join(dir, 'out');
    const strikes = (await ndjson(join(out, 'strikes.ndjson'))).map((s) => Strike.parse(s));
    expect(new Set(strikes.map((s) => s.accountId))).toEqual(new Set(['acc-bot']));
    expect(strikes.map((s) => s.ruleId)).toContain('automation-metronomic-cadence');

    const transitions = (await ndjson(join(out, 'transitions.ndjson'))).map((t) => Transition.parse(t));
    expect(transitions[0]).toMatchObject({ accountId: 'acc-bot', from: 'active', to: 'paused' });

    const cases = (await ndjson(join(out, 'cases.ndjson'))).map((c) => Case.parse(c));
    expect(cases.map((c) => c.accountId)).toEqual(['acc-bot']);
    expect(cases[0]!.strikes.length).toBe(strikes.length);
    expect(cases[0]!.transitions.length).toBe(transitions.length);

    (await ndjson(join(out, 'quota.ndjson'))).forEach((d) => SpeedDecision.parse(d));
    const dead = (await ndjson(join(out, 'dead-letter.ndjson'))).map((d) => DeadLetter.parse(d));
    expect(dead.map((d) => d.reason).sort()).toEqual(['not-json', 'oversized', 'schema']);
    expect(dead.find((d) => d.reason === 'not-json')!.raw).toBe('this is not json');
  });

  it('reads events from stdin with --input -', async () => {
    const dir = await tempDir();
    const r = await fairuse(['run', '-i', '-', '-o', dir, '--json'], scenario());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).accepted).toBe(2885);
  });

  it('gives identical outputs when the same input is run twice (deterministic ids)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'events.ndjson'), scenario());
    await fairuse(['run', '-i', join(dir, 'events.ndjson'), '-o', join(dir, 'a')]);
    await fairuse(['run', '-i', join(dir, 'events.ndjson'), '-o', join(dir, 'b')]);
    for (const f of ['strikes.ndjson', 'transitions.ndjson', 'cases.ndjson', 'quota.ndjson']) {
      expect(await readFile(join(dir, 'b', f), 'utf8')).toBe(await readFile(join(dir, 'a', f), 'utf8'));
    }
  });

  it('runs the policy path strikes → paused → appeal restored → new violation → suspended, setting aside refused commands', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'events.ndjson'), scenario());
    const cmd = (id: string, kind: string, at: string) =>
      JSON.stringify({ commandId: id, kind, accountId: 'acc-bot', actor: 'agent-1', reason: 'user wrote in', at });
    await writeFile(
      join(dir, 'commands.ndjson'),
      [
        cmd('c1', 'appeal.open', '2026-11-02T01:00:00Z'),
        cmd('c2', 'appeal.restore', '2026-11-02T02:00:00Z'),
        cmd('c3', 'appeal.restore', '2026-11-02T03:00:00Z'),
        '{"commandId":"c4","kind":"manual.nuke"}',
      ].join('\n'),
    );
    const r = await fairuse(['run', '-i', join(dir, 'events.ndjson'), '-o', join(dir, 'out'), '-c', join(dir, 'commands.ndjson'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).commands).toEqual({ applied: 2, refused: 1 });
    const transitions = (await ndjson(join(dir, 'out', 'transitions.ndjson'))) as Transition[];
    // The script keeps going after its appeal was restored: the next violation suspends it for good.
    expect(transitions.map((t) => `${t.from}→${t.to}`)).toEqual(['active→paused', 'paused→active', 'active→suspended']);
    expect(transitions[1]).toMatchObject({ actor: 'agent-1', commandId: 'c2' });
    const dead = (await ndjson(join(dir, 'out', 'dead-letter.ndjson'))) as DeadLetter[];
    expect(dead.filter((d) => d.reason === 'bad-command')).toHaveLength(2);
  });
});

describe('fairuse CLI input errors', () => {
  it('rejects unknown flags with usage and exit code 2', async () => {
    const r = await fairuse(['run', '-i', 'x', '-o', 'y', '--inptu', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--inptu'/);
  });

  it('requires --input and --out', async () => {
    const r = await fairuse(['run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/required option/);
  });

  it('names a missing input file', async () => {
    const r = await fairuse(['run', '-i', '/nonexistent/events.ndjson', '-o', await tempDir()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ENOENT.*\/nonexistent\/events.ndjson/);
  });

  it('refuses a broken rule directory with file:line and rule id, writing nothing', async () => {
    const rules = await tempDir();
    await cp(join(ROOT, 'rules'), rules, { recursive: true });
    await writeFile(join(rules, 'zz-bad.yaml'), 'rules:\n  - id: bad-rule\n    description: x\n    severity: high\n    mode: enforce\n    owner: t\n    cooldown: 5 minutes\n    conditions: [{ kind: velocity, window: 1m, threshold: 3 }]\n    strike: { points: 1, reason: r }\n');
    const out = join(await tempDir(), 'out');
    const r = await fairuse(['run', '-i', '-', '-o', out, '-r', rules], '');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/zz-bad\.yaml:7:\d+ rule "bad-rule" at rules\.0\.cooldown: invalid duration "5 minutes"/);
    await expect(readdir(out)).rejects.toThrow();
  });

  it('refuses a broken policy file naming the field', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'p'));
    await writeFile(join(dir, 'p', 'policy.yaml'), 'enforcement: { lookback: 7d, pauseAt: 10, suspendAt: 5, probation: 90d }\nquota: { plans: {}, relaxedModels: [] }\n');
    const r = await fairuse(['run', '-i', '-', '-o', join(dir, 'out'), '-p', join(dir, 'p', 'policy.yaml')], '');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/policy\.yaml: enforcement\.suspendAt: suspendAt must be at least pauseAt/);
  });
});
