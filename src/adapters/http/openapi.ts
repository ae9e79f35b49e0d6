import { z } from 'zod';
import { ErrorResponse } from './schemas.js';
import type { Route } from './routes.js';

const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') => z.toJSONSchema(schema, { io, unrepresentable: 'any' });

const ROLE_NOTE: Record<Route['access'], string> = {
  public: 'No token needed.',
  viewer: 'Needs a bearer token with role viewer, agent or admin.',
  agent: 'Needs a bearer token with role agent or admin.',
  admin: 'Needs a bearer token with role admin.',
};

/** The role matrix as a markdown table, for the document's description. */
function roleMatrix(routes: readonly Route[]): string {
  const yes = (r: Route, role: 'viewer' | 'agent' | 'admin') =>
    r.access === 'public' || ['viewer', 'agent', 'admin'].indexOf(role) >= ['viewer', 'agent', 'admin'].indexOf(r.access) ? 'yes' : '403';
  const rows = routes.map((r) => `| ${r.method} ${r.path} | ${r.access === 'public' ? 'yes' : '401'} | ${yes(r, 'viewer')} | ${yes(r, 'agent')} | ${yes(r, 'admin')} |`);
  return ['| endpoint | no token | viewer | agent | admin |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** OpenAPI 3.1 (JSON Schema 2020-12) for the API, generated from the route table and its zod schemas. */
export function openApiDocument(routes: readonly Route[]): Record<string, unknown> {
  const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!schema) continue;
      const s = json(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, prop] of Object.entries(s.properties ?? {})) {
        parameters.push({ name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: prop });
      }
    }
    if (r.method === 'POST') {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'Repeat a request safely: the same key from the same actor applies the command at most once',
        schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
      });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      responses[status] = res.schema
        ? { description: res.description, content: { [res.contentType ?? 'application/json']: { schema: json(res.schema) } } }
        : res.contentType
          ? { description: res.description, content: { [res.contentType]: { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } } }
          : error(res.description);
    }
    if (r.params || r.query || r.body) responses['400'] = error('Malformed request: bad id, unknown or invalid parameter or field, bad JSON');
    if (r.access !== 'public') {
      responses['401'] = error('No bearer token, or not a valid one');
      responses['403'] = error(`The token's role is too low (${ROLE_NOTE[r.access]})`);
      responses['503'] = error('Elasticsearch unavailable; retry later');
    }
    if (r.body) {
      responses['413'] = error('Request body too large');
      responses['415'] = error('Request body is not application/json');
    }
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      operationId: r.operationId,
      summary: r.summary,
      description: `${ROLE_NOTE[r.access]}${r.action ? ' Audited with actor, role, reason, request id and outcome.' : ''}`,
      'x-required-role': r.access,
      security: r.access === 'public' ? [] : [{ bearer: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(r.body, 'input') } } } } : {}),
      responses,
    };
  }
  paths['/openapi.json'] = {
    get: { operationId: 'openapi', summary: 'This document', security: [], 'x-required-role': 'public', responses: { 200: { description: 'OpenAPI 3.1' } } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'fairuse support API',
      version: '1',
      description: [
        'Entitlements for the platform and case work for support: appeals, manual actions, exports.',
        'Roles, each including the ones before it: viewer (read: entitlements, cases), agent (+ appeals, pause, restore), admin (+ suspend, exports).',
        '',
        roleMatrix(routes),
      ].join('\n'),
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Token from FAIRUSE_API_TOKENS' } },
      schemas: { Error: json(ErrorResponse) },
    },
  };
}
