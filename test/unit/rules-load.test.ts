import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRuleDir, loadRules, RuleLoadError, type RuleIssue, type RuleSource } from '../../src/rules/load.js';
import type { RuleSet } from '../../src/rules/ruleset.js';
import type { GenerationEvent } from '../../src/contract/event.js';
import { requiredOnly } from '../support/events.js';

const RULES_DIR = fileURLToPath(new URL('../../rules', import.meta.url));

/** Joins lines with LF so that the line numbers in a test read off the array index (+1). */
const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** Runs loadRules and returns the issues of the RuleLoadError it must throw. */
function issuesOf(sources: readonly RuleSource[]): RuleIssue[] {
  let result: RuleSet | undefined;
  try {
    result = loadRules(sources);
  } catch (err) {
    expect(err).toBeInstanceOf(RuleLoadError);
    return [...(err as RuleLoadError).issues];
  }
  throw new Error(`expected a RuleLoadError, but the set loaded with ${result.rules.length} rule(s)`);
}

function only(issues: RuleIssue[]): RuleIssue {
  expect(issues, JSON.stringify(issues, null, 2)).toHaveLength(1);
  return issues[0]!;
}

/** A complete, valid rule at line 2 of its file; `lines 7..` vary per test. */
const ruleHead = (id = 'r1'): string[] => [
  'rules:', // 1
  `  - id: ${id}`, // 2
  '    description: d', // 3
  '    severity: low', // 4
  '    mode: enforce', // 5
  '    owner: o', // 6
];
const ruleTail = ['    strike: { points: 5, reason: x }', '    cooldown: 1h'];
const velocity = ['    conditions:', '      - { kind: velocity, window: 1m, threshold: 3 }'];
const goodRule = (id = 'r1'): string => yaml(...ruleHead(id), ...velocity, ...ruleTail);

const event: GenerationEvent = requiredOnly({ eventId: 'e-1', requestId: 'r-1' });

describe('shipped rule pack', () => {
  it('loads rules/ and stamps every rule with a 12-hex version', async () => {
    const set = await loadRuleDir(RULES_DIR);
    expect(set.rules.length).toBeGreaterThan(0);
    for (const rule of set.rules) expect(rule.version, rule.spec.id).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(set.rules.map((r) => r.spec.id)).size).toBe(set.rules.length);
    // policy.yaml lives beside the rules but is not a rule file.
    expect(set.files.some((f) => /policy\.ya?ml$/.test(f))).toBe(false);
    for (const rule of set.rules) expect(typeof rule.matches(event, Date.parse(event.occurredAt))).toBe('boolean');
  });
});

describe('rule load errors: one per class, located exactly', () => {
  it('YAML syntax error → yaml.syntax at the offending line and column', () => {
    const text = yaml(
      'lists:', // 1
      '  clients:', // 2
      '    kind: : values', // 3: the stray ":" is at column 11
      '    items: [api]', // 4
    );
    const issue = only(issuesOf([{ file: 'lists.yaml', text }]));
    expect(issue).toMatchObject({ file: 'lists.yaml', code: 'yaml.syntax', line: 3, column: 11 });
    expect(issue.ruleId).toBeUndefined();
  });

  it('unknown key (typo "treshold") → key.unknown at the key itself', () => {
    const text = yaml(
      ...ruleHead(),
      '    conditions:', // 7
      '      - kind: velocity', // 8
      '        window: 1m', // 9
      '        treshold: 30', // 10
      ...ruleTail,
    );
    const issues = issuesOf([{ file: 'a.yaml', text }]);
    const unknown = issues.filter((i) => i.code === 'key.unknown');
    expect(unknown).toEqual([
      {
        file: 'a.yaml',
        line: 10,
        column: 9,
        ruleId: 'r1',
        path: 'rules.0.conditions.0.treshold',
        code: 'key.unknown',
        message: expect.stringContaining('treshold'),
        hint: 'did you mean `threshold`?',
      },
    ]);
  });

  it.each([
    ['a quoted number', '        threshold: "30"', 'rules.0.conditions.0.threshold', 10, 20],
    ['a boolean for a count', '        threshold: true', 'rules.0.conditions.0.threshold', 10, 20],
  ])('wrong type (%s) → code "type" at the value', (_name, line10, path, line, column) => {
    const text = yaml(...ruleHead(), '    conditions:', '      - kind: velocity', '        window: 1m', line10, ...ruleTail);
    const issue = only(issuesOf([{ file: 'a.yaml', text }]));
    expect(issue).toMatchObject({ file: 'a.yaml', ruleId: 'r1', path, line, column, code: 'type' });
  });

  it.each(['5 minutes', '0s', '-1m', '1.5h', '1h30m'])('bad duration %j → duration at the value', (window) => {
    const text = yaml(
      ...ruleHead(),
      '    conditions:', // 7
      '      - kind: velocity', // 8
      `        window: ${window}`, // 9, value at column 17
      '        threshold: 30', // 10
      ...ruleTail,
    );
    const issue = only(issuesOf([{ file: 'a.yaml', text }]));
    expect(issue).toMatchObject({
      file: 'a.yaml',
      line: 9,
      column: 17,
      ruleId: 'r1',
      path: 'rules.0.conditions.0.window',
      code: 'duration',
    });
    expect(issue.message).toContain(window);
  });

  it('bad duration in cooldown → duration at the value', () => {
    const text = yaml(...ruleHead(), ...velocity, '    strike: { points: 5, reason: x }', '    cooldown: 5 minutes');
    const issue = only(issuesOf([{ file: 'a.yaml', text }]));
    expect(issue).toMatchObject({ file: 'a.yaml', line: 10, column: 15, ruleId: 'r1', path: 'rules.0.cooldown', code: 'duration' });
  });

  it('unknown event field in match → field.unknown at the field value', () => {
    const text = yaml(
      ...ruleHead(),
      '    match:', // 7
      '      - { field: colour, op: equals, value: x }', // 8, "colour" at column 18
      ...velocity,
      ...ruleTail,
    );
    const issue = only(issuesOf([{ file: 'a.yaml', text }]));
    expect(issue).toMatchObject({
      file: 'a.yaml',
      line: 8,
      column: 18,
      ruleId: 'r1',
      path: 'rules.0.match.0.field',
      code: 'field.unknown',
    });
  });

  it('unknown event field in groupBy → field.unknown at the value', () => {
    const text = yaml(...ruleHead(), '    groupBy: colour', ...velocity, ...ruleTail);
    const issue = only(issuesOf([{ file: 'a.yaml', text }]));
    expect(issue).toMatchObject({ file: 'a.yaml', line: 7, column: 14, ruleId: 'r1', path: 'rules.0.groupBy', code: 'field.unknown' });
  });

  it('unknown event field in a distinct condition → field.unknown at the value', () => {
    const text = yaml(
      ...ruleHead(),
      '    conditions:', // 7
      '      - kind: distinct', // 8
      '        field: colour', // 9
      '        window: 1h', // 10
      '        threshold: 3', // 11
      ...ruleTail,
    );
    const issue = only(issuesOf([{ file: 'a.yaml', text }]));
    expect(issue).toMatchObject({
      file: 'a.yaml',
      line: 9,
      column: 16,
      ruleId: 'r1',
      path: 'rules.0.conditions.0.field',
      code: 'field.unknown',
    });
  });

  it('unknown list name ($nope) → list.unknown at the value', () => {
    const text = yaml(...ruleHead(), '    match:', '      - { field: client, op: in, value: [web, $nope] }', ...velocity, ...ruleTail);
    const issue = only(issuesOf([{ file: 'a.yaml', text }]));
    expect(issue).toMatchObject({ file: 'a.yaml', line: 8, column: 41, ruleId: 'r1', path: 'rules.0.match.0.value', code: 'list.unknown' });
    expect(issue.message).toContain('$nope');
  });

  it('list kind mismatch (values list in in-cidr) → list.kind at the value', () => {
    const lists = yaml('lists:', '  clients:', '    kind: values', '    items: [api]');
    const text = yaml(...ruleHead(), '    match:', '      - { field: ip, op: in-cidr, value: $clients }', ...velocity, ...ruleTail);
    const issue = only(issuesOf([{ file: 'lists.yaml', text: lists }, { file: 'a.yaml', text }]));
    expect(issue).toMatchObject({ file: 'a.yaml', line: 8, column: 42, ruleId: 'r1', path: 'rules.0.match.0.value', code: 'list.kind' });
  });

  it('bad CIDR literal in a rule → match.bad-cidr at the value', () => {
    const text = yaml(...ruleHead(), '    match:', '      - { field: ip, op: in-cidr, value: 10.0.0.0/33 }', ...velocity, ...ruleTail);
    const issue = only(issuesOf([{ file: 'a.yaml', text }]));
    expect(issue).toMatchObject({ file: 'a.yaml', line: 8, column: 42, ruleId: 'r1', path: 'rules.0.match.0.value', code: 'match.bad-cidr' });
  });

  const badCidrList = yaml(
    'lists:', // 1
    '  nets:', // 2
    '    kind: cidr', // 3
    '    items:', // 4
    '      - 10.0.0.0/8', // 5
    '      - 300.1.2.3/8', // 6, column 9
  );

  it('bad CIDR in a list → issue in the list file, at the bad item', () => {
    const rule = yaml(...ruleHead(), '    match:', '      - { field: ip, op: in-cidr, value: $nets }', ...velocity, ...ruleTail);
    const issues = issuesOf([{ file: 'lists.yaml', text: badCidrList }, { file: 'a.yaml', text: rule }]);
    const inList = issues.find((i) => i.file === 'lists.yaml');
    expect(inList, JSON.stringify(issues)).toBeDefined();
    expect(inList).toMatchObject({ file: 'lists.yaml', line: 6, column: 9, path: 'lists.nets.items.1' });
    expect(inList!.code).toMatch(/bad-cidr$/);
    expect(inList!.ruleId).toBeUndefined();
  });

  it('bad CIDR in a list is rejected even before any rule references it', () => {
    const issue = only(issuesOf([{ file: 'lists.yaml', text: badCidrList }]));
    expect(issue).toMatchObject({ file: 'lists.yaml', line: 6, column: 9, path: 'lists.nets.items.1' });
  });

  it('duplicate rule id across two files → rule.duplicate-id in the second file at the id', () => {
    const issue = only(issuesOf([{ file: 'a.yaml', text: goodRule('r1') }, { file: 'b.yaml', text: goodRule('r1') }]));
    expect(issue).toMatchObject({ file: 'b.yaml', line: 2, column: 9, ruleId: 'r1', path: 'rules.0.id', code: 'rule.duplicate-id' });
    expect(issue.message).toContain('a.yaml');
  });

  it('duplicate list across files → list.duplicate in the second file at the list name', () => {
    const list = yaml('lists:', '  nets:', '    kind: cidr', '    items: [10.0.0.0/8]');
    const issue = only(issuesOf([{ file: 'l1.yaml', text: list }, { file: 'l2.yaml', text: list }]));
    expect(issue).toMatchObject({ file: 'l2.yaml', line: 2, column: 3, path: 'lists.nets', code: 'list.duplicate' });
    expect(issue.ruleId).toBeUndefined();
  });

  it('concurrency with groupBy other than accountId → condition.scope at the condition', () => {
    const text = yaml(
      ...ruleHead(),
      '    groupBy: ip', // 7
      '    conditions:', // 8
      '      - kind: concurrency', // 9
      '        threshold: 5', // 10
      ...ruleTail,
    );
    const issue = only(issuesOf([{ file: 'a.yaml', text }]));
    expect(issue).toMatchObject({ file: 'a.yaml', line: 9, column: 9, ruleId: 'r1', path: 'rules.0.conditions.0', code: 'condition.scope' });
  });

  it('missing required key (owner) → key.missing at the rule', () => {
    const text = yaml('rules:', '  - id: r1', '    description: d', '    severity: low', '    mode: enforce', ...velocity, ...ruleTail);
    const issue = only(issuesOf([{ file: 'a.yaml', text }]));
    expect(issue).toMatchObject({ file: 'a.yaml', line: 2, column: 5, ruleId: 'r1', path: 'rules.0.owner', code: 'key.missing' });
  });

  it('a set with one good and one bad file throws and returns nothing (never half), in either order', () => {
    const bad = { file: 'b.yaml', text: goodRule('r2').replace('severity: low', 'severity: extreme') };
    const good = { file: 'a.yaml', text: goodRule('r1') };
    for (const sources of [[good, bad], [bad, good]]) {
      let loaded: RuleSet | undefined;
      let error: unknown;
      try {
        loaded = loadRules(sources);
      } catch (err) {
        error = err;
      }
      expect(loaded).toBeUndefined();
      expect(error).toBeInstanceOf(RuleLoadError);
      const issues = (error as RuleLoadError).issues;
      expect(issues.map((i) => i.file)).toEqual(['b.yaml']);
      expect(issues[0]).toMatchObject({ line: 4, column: 15, ruleId: 'r2', path: 'rules.0.severity', code: 'value.enum' });
    }
    // The good file alone still loads.
    expect(loadRules([good]).rules.map((r) => r.spec.id)).toEqual(['r1']);
  });
});

describe('hostile rule files', () => {
  const bomb = yaml(
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
    'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
    'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
  );

  it('an alias bomb (billion laughs) fails fast instead of expanding', () => {
    const started = Date.now();
    expect(() => loadRules([{ file: 'bomb.yaml', text: bomb }])).toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('an alias bomb is reported as a RuleLoadError naming the file, like any other bad file', () => {
    let error: unknown;
    try {
      loadRules([{ file: 'a.yaml', text: goodRule() }, { file: 'bomb.yaml', text: bomb }]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RuleLoadError);
    expect((error as RuleLoadError).issues.map((i) => i.file)).toContain('bomb.yaml');
  });

  it('a !!js/function tag executes nothing: it is an error or a plain string', () => {
    const g = globalThis as { pwned?: unknown };
    delete g.pwned;
    const text = goodRule().replace('description: d', 'description: !!js/function "function () { globalThis.pwned = 1; return 1 }"');
    let set: RuleSet | undefined;
    try {
      set = loadRules([{ file: 'a.yaml', text }]);
    } catch (err) {
      expect(err).toBeInstanceOf(RuleLoadError);
    }
    if (set) {
      const description: unknown = set.rules[0]!.spec.description;
      expect(typeof description).toBe('string');
      set.rules[0]!.matches(event, Date.parse(event.occurredAt));
    }
    expect(g.pwned).toBeUndefined();
  });

  it('__proto__ keys do not pollute Object.prototype', () => {
    const texts = [
      yaml('__proto__:', '  polluted: yes', 'rules: []'),
      yaml('lists:', '  __proto__:', '    kind: values', '    items: [polluted]'),
      goodRule().replace('strike: { points: 5, reason: x }', 'strike: { points: 5, reason: x, __proto__: { polluted: yes } }'),
      goodRule().replace('    conditions:', '    match:\n      - { field: type, op: equals, value: x, __proto__: { polluted: yes } }\n    conditions:'),
    ];
    for (const text of texts) {
      try {
        loadRules([{ file: 'a.yaml', text }]);
      } catch (err) {
        expect(err).toBeInstanceOf(RuleLoadError);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    }
  });

  it('a 1 MB description loads (or is rejected) promptly and intact', () => {
    const big = 'x'.repeat(1 << 20);
    const started = Date.now();
    let set: RuleSet | undefined;
    try {
      set = loadRules([{ file: 'a.yaml', text: goodRule().replace('description: d', `description: ${big}`) }]);
    } catch (err) {
      expect(err).toBeInstanceOf(RuleLoadError);
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    if (set) expect(set.rules[0]!.spec.description).toBe(big);
  });
});

describe('rule versions', () => {
  const lists = (items: string): string => yaml('lists:', '  nets:', '    kind: cidr', `    items: [${items}]`);
  const rules = (threshold: number): string =>
    yaml(
      'rules:',
      '  - id: uses-list',
      '    description: d',
      '    severity: low',
      '    mode: enforce',
      '    owner: o',
      '    match:',
      '      - { field: ip, op: not-in-cidr, value: $nets }',
      '    conditions:',
      `      - { kind: velocity, window: 1m, threshold: ${threshold} }`,
      '    strike: { points: 5, reason: x }',
      '    cooldown: 1h',
      '  - id: no-list',
      '    description: d',
      '    severity: low',
      '    mode: enforce',
      '    owner: o',
      '    conditions:',
      '      - { kind: velocity, window: 1m, threshold: 3 }',
      '    strike: { points: 5, reason: x }',
      '    cooldown: 1h',
    );
  const versions = (listText: string, ruleText: string): Record<string, string> =>
    Object.fromEntries(
      loadRules([
        { file: 'lists.yaml', text: listText },
        { file: 'rules.yaml', text: ruleText },
      ]).rules.map((r) => [r.spec.id, r.version]),
    );
  const base = versions(lists('10.0.0.0/8'), rules(30));

  it('changes when a threshold changes', () => {
    const changed = versions(lists('10.0.0.0/8'), rules(31));
    expect(changed['uses-list']).not.toBe(base['uses-list']);
    expect(changed['no-list']).toBe(base['no-list']);
  });

  it("changes when a referenced list's items change, and only for rules that reference it", () => {
    const changed = versions(lists('10.0.0.0/8, 192.0.2.0/24'), rules(30));
    expect(changed['uses-list']).not.toBe(base['uses-list']);
    expect(changed['no-list']).toBe(base['no-list']);
  });

  it('stays the same when only whitespace and comments change', () => {
    const reformattedLists = `# shared lists\n\nlists:\n    nets:   # the nets\n        kind:   cidr\n        items:\n          - 10.0.0.0/8   # private\n\n`;
    const reformattedRules = rules(30)
      .split('\n')
      .map((l) => (l.startsWith('    ') && !l.includes('{') ? `${l}   # note` : l))
      .join('\n')
      .replace('rules:\n', '# header comment\n\nrules:\n\n')
      .replace('      - { field: ip, op: not-in-cidr, value: $nets }', '      -   {  field: ip,   op: not-in-cidr,  value: $nets  }');
    expect(versions(reformattedLists, reformattedRules)).toEqual(base);
  });
});
