import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, jsonSchemaOf, keysAt, schemaAt, SCHEMA_FILES, schemaFileText, type SchemaFileName } from '../../src/rules/json-schema.js';
import { parseDuration } from '../../src/time/duration.js';

const RULES = fileURLToPath(new URL('../../rules', import.meta.url));
const NAMES = Object.keys(SCHEMA_FILES) as SchemaFileName[];

describe('JSON Schemas for editors', () => {
  it.each(NAMES)('the committed rules/schema/%s equals a freshly generated one (run `fairuse rules schema`)', async (name) => {
    expect(await readFile(join(RULES, 'schema', name), 'utf8')).toBe(schemaFileText(name));
  });

  it('every YAML of the pack names its schema on the first line, and the schema exists', async () => {
    const files = (await readdir(RULES)).filter((f) => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const first = (await readFile(join(RULES, f), 'utf8')).split('\n')[0]!;
      const expected = /\.test\.ya?ml$/.test(f) ? 'rule-test' : /^policy\./.test(f) ? 'policy' : 'rule-file';
      expect(first, f).toBe(`# yaml-language-server: $schema=./schema/${expected}.schema.json`);
    }
  });

  it('durations are strings with a pattern that accepts exactly what the loader accepts', () => {
    const pattern = new RegExp(DURATION_PATTERN);
    const cooldown = schemaAt('rule-file.schema.json', { rules: [{}] }, ['rules', 0, 'cooldown'])!;
    expect(cooldown).toMatchObject({ type: 'string', pattern: DURATION_PATTERN });
    const policyLookback = schemaAt('policy.schema.json', {}, ['enforcement', 'lookback'])!;
    expect(policyLookback).toMatchObject({ type: 'string', pattern: DURATION_PATTERN });
    const durationish = fc.oneof(
      fc.string(),
      fc.tuple(fc.stringMatching(/^[0-9]{0,6}$/), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w', 'S', '')).map(([n, u]) => `${n}${u}`),
    );
    fc.assert(
      fc.property(durationish, (text) => {
        const ms = parseDuration(text);
        expect(pattern.test(text)).toBe(ms !== undefined && ms > 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('describes conditions per kind, so an editor completes the keys of the kind being written', () => {
    const doc = { rules: [{ conditions: [{ kind: 'cadence' }, { kind: 'velocity' }] }] };
    expect(keysAt('rule-file.schema.json', doc, ['rules', 0, 'conditions', 0]).sort()).toEqual(['kind', 'maxCv', 'maxMeanGap', 'samples']);
    expect(keysAt('rule-file.schema.json', doc, ['rules', 0, 'conditions', 1]).sort()).toEqual(['kind', 'threshold', 'window']);
  });

  it('match expressions are a named recursive definition', () => {
    const schema = jsonSchemaOf('rule-file.schema.json');
    expect(Object.keys(schema.$defs as object)).toEqual(['MatchExpr']);
    expect(JSON.stringify(schema)).not.toContain('__schema');
  });

  it('refuses unknown keys everywhere authors write (additionalProperties: false)', () => {
    const walk = (node: unknown, path: string, out: string[]) => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${path}[${i}]`, out));
      else if (node && typeof node === 'object') {
        const o = node as Record<string, unknown>;
        if (o.type === 'object' && o.properties && o.additionalProperties !== false) out.push(path);
        for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`, out);
      }
    };
    for (const name of NAMES) {
      const open: string[] = [];
      walk(jsonSchemaOf(name), name, open);
      expect(open, name).toEqual([]);
    }
  });
});
