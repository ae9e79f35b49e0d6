import { z } from 'zod';
import { Policy } from '../policy/schema.js';
import { Duration } from '../time/duration.js';
import { TestFile } from './cases/schema.js';
import { RuleFile } from './schema.js';

/** What `parseDuration` accepts, minus zero: the loader refuses durations that are not positive. */
export const DURATION_PATTERN = '^0*[1-9][0-9]*(ms|s|m|h|d)$';

export type JsonSchema = { [key: string]: unknown };

/** The schema files `fairuse rules schema` writes, named as the `# yaml-language-server` lines refer to them. */
export const SCHEMA_FILES = {
  'rule-file.schema.json': { schema: RuleFile, title: 'fairuse rule file', description: 'Rules and named lists of a fairuse rule directory (rules/*.yaml).' },
  'policy.schema.json': { schema: Policy, title: 'fairuse policy', description: 'Fair-use policy: time handling, daily Fast quota, health limits, enforcement (rules/policy.yaml).' },
  'rule-test.schema.json': { schema: TestFile, title: 'fairuse rule tests', description: 'Rule test cases run by `fairuse rules test` (rules/*.test.yaml).' },
} as const;
export type SchemaFileName = keyof typeof SCHEMA_FILES;

/**
 * JSON Schema of what authors write (the zod input side): durations are strings with a pattern, defaults optional.
 * Generated from the same zod schemas the loader uses, so editors and the loader cannot disagree.
 */
export function jsonSchemaOf(name: SchemaFileName): JsonSchema {
  const { schema, title, description } = SCHEMA_FILES[name];
  const generated = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    cycles: 'ref',
    reused: 'inline',
    override: (ctx) => {
      // `.describe()` clones a schema but keeps its definition: any described duration is still a duration.
      if (ctx.zodSchema._zod.def !== Duration._zod.def) return;
      ctx.jsonSchema.pattern = DURATION_PATTERN;
      ctx.jsonSchema.description ??= 'a positive whole number and a unit (ms, s, m, h, d)';
      ctx.jsonSchema.examples = ['30s', '5m', '24h', '7d'];
    },
  }) as JsonSchema;
  const { $schema, ...rest } = namedDefs(generated);
  return { $schema, title, description, ...rest };
}

/** zod numbers shared definitions (`__schema0`); those with a title are renamed after it, so references read well. */
function namedDefs(schema: JsonSchema): JsonSchema {
  const defs = isObject(schema.$defs) ? schema.$defs : {};
  const renames = new Map<string, string>();
  for (const [key, def] of Object.entries(defs)) {
    const title = isObject(def) ? def.title : undefined;
    if (typeof title === 'string' && !(title in defs) && ![...renames.values()].includes(title)) renames.set(`#/$defs/${key}`, title);
  }
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (!isObject(value)) return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        if (k === '$ref' && typeof v === 'string' && renames.has(v)) return [k, `#/$defs/${renames.get(v)}`];
        if (k === '$defs' && isObject(v)) return [k, Object.fromEntries(Object.entries(v).map(([name, d]) => [renames.get(`#/$defs/${name}`) ?? name, rewrite(d)]))];
        return [k, rewrite(v)];
      }),
    );
  };
  return rewrite(schema) as JsonSchema;
}

/** A schema file's text: stable formatting, so the committed files can be compared with fresh ones. */
export function schemaFileText(name: SchemaFileName): string {
  return `${JSON.stringify(jsonSchemaOf(name), null, 2)}\n`;
}

const cache = new Map<SchemaFileName, JsonSchema>();
function cached(name: SchemaFileName): JsonSchema {
  let s = cache.get(name);
  if (!s) cache.set(name, (s = jsonSchemaOf(name)));
  return s;
}

const isObject = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

function deref(root: JsonSchema, node: JsonSchema): JsonSchema {
  const ref = node.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/$defs/')) return node;
  const target = (root.$defs as JsonSchema | undefined)?.[ref.slice('#/$defs/'.length)];
  return isObject(target) ? target : node;
}

/** Of a union's branches, the one the value was meant for: a matching `const` (e.g. `kind`), else the most shared keys. */
function branchFor(root: JsonSchema, node: JsonSchema, value: unknown): JsonSchema {
  const branches = (node.oneOf ?? node.anyOf) as unknown;
  if (!Array.isArray(branches)) return node;
  const options = branches.filter(isObject).map((b) => deref(root, b));
  const data = isObject(value) ? value : {};
  const props = (b: JsonSchema) => (isObject(b.properties) ? b.properties : {});
  const byConst = options.find((b) => Object.entries(props(b)).some(([k, p]) => isObject(p) && p.const !== undefined && p.const === data[k]));
  if (byConst) return byConst;
  const score = (b: JsonSchema) => Object.keys(data).filter((k) => k in props(b)).length;
  return options.reduce<JsonSchema | undefined>((best, b) => (!best || score(b) > score(best) ? b : best), undefined) ?? node;
}

/** The (resolved) schema node that describes the value at `path` of a document, given the document's data. */
export function schemaAt(name: SchemaFileName, data: unknown, path: readonly PropertyKey[]): JsonSchema | undefined {
  const root = cached(name);
  let node: JsonSchema = branchFor(root, deref(root, root), data);
  let value = data;
  for (const key of path) {
    const next =
      typeof key === 'number'
        ? node.items
        : isObject(node.properties) && Object.hasOwn(node.properties, String(key))
          ? node.properties[String(key)]
          : node.additionalProperties;
    if (!isObject(next)) return undefined;
    value = (isObject(value) || Array.isArray(value)) && Object.hasOwn(value, key) ? (value as Record<PropertyKey, unknown>)[key] : undefined;
    node = branchFor(root, deref(root, next), value);
  }
  return node;
}

/** Keys an object at `path` may have. */
export function keysAt(name: SchemaFileName, data: unknown, path: readonly PropertyKey[]): string[] {
  const node = schemaAt(name, data, path);
  return node && isObject(node.properties) ? Object.keys(node.properties) : [];
}
