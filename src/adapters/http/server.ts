import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errors as esErrors } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import { auditEntry } from '../../support/audit.js';
import { roleAllows, type Principal, type TokenAuthenticator } from './auth.js';
import { openApiDocument } from './openapi.js';
import { HttpError, queryObject, readJsonBody, validate } from './request.js';
import { apiRoutes, type ApiDeps, type Reply, type Route } from './routes.js';

export interface ApiServerOptions {
  deps: ApiDeps;
  tokens: TokenAuthenticator;
  logger: Logger;
  maxBodyBytes: number;
}

interface Compiled {
  route: Route;
  segments: Array<{ literal: string } | { param: string }>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/** The support API on node:http: routing, authentication, validation, auditing of refusals, errors and logs. */
export function createApiServer(opts: ApiServerOptions): Server {
  const routes = apiRoutes(opts.deps);
  const openapi = JSON.stringify(openApiDocument(routes));
  const table: Compiled[] = routes.map((route) => ({
    route,
    segments: route.path
      .split('/')
      .slice(1)
      .map((s) => (s.startsWith('{') ? { param: s.slice(1, -1) } : { literal: s })),
  }));

  const server = createServer((req, res) => {
    const started = performance.now();
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    let principal: Principal | undefined;
    let matched: Route | undefined;
    handle(req, res, requestId, (p, r) => ((principal = p), (matched = r)))
      .catch((err: unknown) => sendError(res, requestId, err, opts.logger))
      .finally(() => {
        const entry = { requestId, method: req.method, path: matched?.path ?? 'unmatched', status: res.statusCode, ms: Math.round(performance.now() - started), actor: principal?.actor };
        // Reads are the platform's hot path: logged at debug; writes, refusals and errors at info.
        if (res.statusCode >= 400 || req.method !== 'GET' || matched?.action) opts.logger.info(entry, 'request');
        else opts.logger.debug(entry, 'request');
      });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  return server;

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string, seen: (p: Principal | undefined, r: Route) => void): Promise<void> {
    // Matched on the path exactly as sent: URL parsing would resolve `..` and let one path stand for another.
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (rawPath === '/openapi.json' && req.method === 'GET') return send(res, 200, openapi, 'application/json');
    const found = match(rawPath, req.method ?? 'GET');
    const route = found.route;
    const principal = route.access === 'public' ? undefined : opts.tokens.authenticate(req.headers.authorization);
    seen(principal, route);
    if (route.access !== 'public') {
      if (!principal) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        throw new HttpError(401, 'unauthorized', 'a valid bearer token is required');
      }
      if (!roleAllows(principal.role, route.access)) {
        await auditRefusal(route, principal, requestId, found.rawParams.accountId, 'forbidden', `needs role ${route.access}`);
        throw new HttpError(403, 'forbidden', `role ${principal.role} may not ${route.operationId}: needs ${route.access}`);
      }
    }
    let params, query, body, idempotencyKey;
    try {
      params = route.params ? validate(route.params, found.rawParams, 'path') : undefined;
      const rawQuery = queryObject(url.searchParams);
      if (!route.query && Object.keys(rawQuery).length > 0) throw new HttpError(400, 'invalid_request', 'this endpoint takes no query parameters');
      query = route.query ? validate(route.query, rawQuery, 'query') : undefined;
      body = route.body ? validate(route.body, await readJsonBody(req, opts.maxBodyBytes), 'body') : undefined;
      const key = req.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) throw new HttpError(400, 'invalid_request', 'Idempotency-Key: 1-128 of A-Z a-z 0-9 . _ : -');
      idempotencyKey = key;
    } catch (err) {
      if (err instanceof HttpError && principal) await auditRefusal(route, principal, requestId, found.rawParams.accountId, 'invalid', err.message);
      if (err instanceof HttpError && err.status === 413) res.setHeader('Connection', 'close'); // do not read the rest of a huge body
      throw err;
    }
    const reply = await route.handle({ params, query, body, principal: principal!, requestId, ...(idempotencyKey ? { idempotencyKey } : {}) });
    await sendReply(res, reply);
  }

  function match(pathname: string, method: string): { route: Route; rawParams: Record<string, string> } {
    const parts = (pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname).split('/').slice(1);
    if (parts.some((p) => p === '.' || p === '..')) throw new HttpError(400, 'invalid_request', 'dot segments are not allowed in paths');
    let pathMatched = false;
    for (const c of table) {
      if (c.segments.length !== parts.length) continue;
      const rawParams: Record<string, string> = {};
      const ok = c.segments.every((s, i) => {
        if ('literal' in s) return s.literal === parts[i];
        try {
          rawParams[s.param] = decodeURIComponent(parts[i]!);
          return true;
        } catch {
          throw new HttpError(400, 'invalid_request', 'malformed percent-encoding in the path');
        }
      });
      if (!ok) continue;
      pathMatched = true;
      if (c.route.method === method) return { route: c.route, rawParams };
    }
    if (pathMatched) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed here`);
    throw new HttpError(404, 'not_found', 'no such endpoint');
  }

  /** A refused write is audited like an applied one; if the audit itself fails, the refusal still goes out. */
  async function auditRefusal(route: Route, p: Principal, requestId: string, accountId: string | undefined, outcome: 'forbidden' | 'invalid', detail: string) {
    if (!route.action) return;
    const safeId = accountId !== undefined && /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/.test(accountId) ? { accountId } : {};
    await opts.deps.audit
      .append(auditEntry({ ...p, requestId }, opts.deps.now(), { action: route.action, outcome, detail, ...safeId }))
      .catch((err: unknown) => opts.logger.error({ requestId, err: (err as Error).message }, 'audit of a refused request failed'));
  }
}

async function sendReply(res: ServerResponse, reply: Reply): Promise<void> {
  if (!reply.stream) return send(res, reply.status, JSON.stringify(reply.json), 'application/json');
  res.writeHead(reply.status, { 'Content-Type': reply.stream.contentType, 'Content-Disposition': `attachment; filename="${reply.stream.filename}"` });
  try {
    await reply.stream.write(res);
  } finally {
    res.end(); // after a failure mid-stream the status is sent already; a truncated body is all we can do
  }
}

function send(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { 'Content-Type': `${contentType}; charset=utf-8`, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, requestId: string, err: unknown, logger: Logger): void {
  let status = 500;
  let code = 'internal';
  let message = 'internal error';
  let issues: HttpError['issues'];
  if (err instanceof HttpError) {
    ({ status, code, message, issues } = err);
  } else if (err instanceof esErrors.ConnectionError || err instanceof esErrors.TimeoutError || err instanceof esErrors.NoLivingConnectionsError) {
    status = 503;
    code = 'unavailable';
    message = 'Elasticsearch is unavailable; retry later';
  }
  if (status >= 500) logger.error({ requestId, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, 'request failed');
  if (res.headersSent) return void res.destroy();
  if (status === 503) res.setHeader('Retry-After', '5');
  send(res, status, JSON.stringify({ error: { code, message, ...(issues ? { issues } : {}) }, requestId }), 'application/json');
}
