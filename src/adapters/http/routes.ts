import type { Writable } from 'node:stream';
import type { z } from 'zod';
import type { CommandKind } from '../../contract/outputs.js';
import { auditEntry, type AuditLog, type AuditTrail } from '../../support/audit.js';
import { parseSince, type CaseFilter, type CaseQueries } from '../../support/cases.js';
import type { EntitlementService } from '../../support/entitlement.js';
import { writeExport } from '../../support/export.js';
import type { CommandGateway, CommandResult } from '../../support/gateway.js';
import type { Principal, Role } from './auth.js';
import { HttpError } from './request.js';
import {
  AccountParams,
  AppealDecisionBody,
  CaseDetailResponse,
  CasePageResponse,
  CommandResponse,
  EntitlementQuery,
  EntitlementResponse,
  ExportQuery,
  Health,
  ReasonBody,
  caseListQuery,
} from './schemas.js';

/** Who may call a route: anyone, or a role and every role above it. */
export type Access = 'public' | Role;

export interface ApiDeps {
  queries: CaseQueries;
  gateway: CommandGateway;
  entitlements: EntitlementService;
  audit: AuditLog & AuditTrail;
  maxPageSize: number;
  now(): number;
}

export interface Reply {
  status: number;
  json?: unknown;
  /** A streamed body (exports); the audit entry is written before the first byte. */
  stream?: { contentType: string; filename: string; write(out: Writable): Promise<number> };
}

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Set on every route that is not public. */
  principal: Principal;
  requestId: string;
  idempotencyKey?: string;
}

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

interface RouteSpec<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined> {
  method: 'GET' | 'POST';
  /** OpenAPI-style template, e.g. /v1/cases/{accountId} */
  path: string;
  operationId: string;
  summary: string;
  access: Access;
  /** The audited action for writes (and exports): refusals at the API (403, 400) are audited under it too. */
  action?: string;
  params?: P;
  query?: Q;
  body?: B;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  handle(ctx: RouteContext<Infer<P>, Infer<Q>, Infer<B>>): Promise<Reply>;
}

export type Route = RouteSpec<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;

function route<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  spec: RouteSpec<P, Q, B>,
): Route {
  return spec as unknown as Route;
}

const commandResponses = {
  200: { description: 'Applied, or a retry of a command already applied (same Idempotency-Key)', schema: CommandResponse },
  202: { description: 'Accepted for asynchronous processing (gateways that queue commands)', schema: CommandResponse },
  409: { description: 'Refused: the account is not in a state that allows this command', schema: CommandResponse },
};

function commandReply(result: CommandResult): Reply {
  const status = result.outcome === 'refused' ? 409 : result.outcome === 'accepted' ? 202 : 200;
  return { status, json: result };
}

/** The API's endpoints; the OpenAPI document and the role checks are both derived from this table. */
export function apiRoutes(deps: ApiDeps): Route[] {
  const command = (kind: CommandKind) => async (ctx: RouteContext<{ accountId: string }, undefined, { reason: string }>) =>
    commandReply(
      await deps.gateway.submit({
        kind,
        accountId: ctx.params.accountId,
        reason: ctx.body.reason,
        by: { actor: ctx.principal.actor, role: ctx.principal.role, requestId: ctx.requestId },
        ...(ctx.idempotencyKey === undefined ? {} : { idempotencyKey: ctx.idempotencyKey }),
      }),
    );
  const since = (text: string | undefined) => {
    if (text === undefined) return {};
    const at = parseSince(text, deps.now());
    if (at === undefined) throw new HttpError(400, 'invalid_request', `invalid since "${text}"`);
    return { updatedSince: at };
  };
  const manual = (kind: 'manual.pause' | 'manual.restore' | 'manual.suspend', verb: string, access: Role) =>
    route({
      method: 'POST',
      path: `/v1/cases/{accountId}/${verb}`,
      operationId: `${verb}Account`,
      summary: `Manual action: ${verb} the account's Unlimited access, with a reason`,
      access,
      action: kind,
      params: AccountParams,
      body: ReasonBody,
      responses: commandResponses,
      handle: command(kind),
    });

  return [
    route({
      method: 'GET',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness of the API process (no Elasticsearch call)',
      access: 'public',
      responses: { 200: { description: 'Up', schema: Health } },
      handle: async () => ({ status: 200, json: { status: 'ok' } }),
    }),
    route({
      method: 'GET',
      path: '/v1/accounts/{accountId}/entitlement',
      operationId: 'getEntitlement',
      summary: "The account's access and generation speed right now, for the platform's request path (cached briefly)",
      access: 'viewer',
      params: AccountParams,
      query: EntitlementQuery,
      responses: { 200: { description: 'Entitlement', schema: EntitlementResponse } },
      handle: async (ctx) => ({ status: 200, json: await deps.entitlements.get(ctx.params.accountId, ctx.query.tool ? { tool: ctx.query.tool } : {}) }),
    }),
    route({
      method: 'GET',
      path: '/v1/cases',
      operationId: 'listCases',
      summary: 'Search cases by status, rule, last update and account id prefix; newest first, paginated',
      access: 'viewer',
      query: caseListQuery(deps.maxPageSize),
      responses: { 200: { description: 'One page of cases', schema: CasePageResponse } },
      handle: async ({ query }) => {
        // Elasticsearch pages by from+size up to 10 000 hits; deeper pages need narrower filters.
        if (query.page * query.size > 10_000) throw new HttpError(400, 'invalid_request', 'page * size must not exceed 10000: narrow the filters');
        const filter: CaseFilter = {
          ...(query.status ? { status: query.status } : {}),
          ...(query.rule ? { rule: query.rule } : {}),
          ...(query.q ? { accountIdPrefix: query.q } : {}),
          ...since(query.since),
        };
        return { status: 200, json: await deps.queries.list(filter, { page: query.page, size: query.size }) };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/cases/{accountId}',
      operationId: 'getCase',
      summary: 'One case: status, points, strikes with evidence, transition timeline and support actions',
      access: 'viewer',
      params: AccountParams,
      responses: { 200: { description: 'The case', schema: CaseDetailResponse }, 404: { description: 'No case for this account' } },
      handle: async ({ params }) => {
        const [c, actions] = await Promise.all([deps.queries.get(params.accountId), deps.audit.forAccount(params.accountId, 200)]);
        if (!c) throw new HttpError(404, 'not_found', `no case for account ${params.accountId}`);
        return { status: 200, json: { case: c, actions } };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/cases/{accountId}/appeal',
      operationId: 'openAppeal',
      summary: 'Open an appeal for a paused account',
      access: 'agent',
      action: 'appeal.open',
      params: AccountParams,
      body: ReasonBody,
      responses: commandResponses,
      handle: command('appeal.open'),
    }),
    route({
      method: 'POST',
      path: '/v1/cases/{accountId}/appeal/decision',
      operationId: 'decideAppeal',
      summary: 'Decide an open appeal: restore access (probation follows) or uphold the pause',
      access: 'agent',
      action: 'appeal.decide',
      params: AccountParams,
      body: AppealDecisionBody,
      responses: commandResponses,
      handle: async (ctx) => command(ctx.body.decision === 'restore' ? 'appeal.restore' : 'appeal.uphold')(ctx),
    }),
    manual('manual.pause', 'pause', 'agent'),
    manual('manual.restore', 'restore', 'agent'),
    manual('manual.suspend', 'suspend', 'admin'),
    route({
      method: 'GET',
      path: '/v1/exports/cases',
      operationId: 'exportCases',
      summary: 'Export cases as CSV (spreadsheet-safe) or NDJSON; audited',
      access: 'admin',
      action: 'cases.export',
      query: ExportQuery,
      responses: {
        200: { description: 'CSV: UTF-8 with BOM, CRLF, RFC 4180; or NDJSON', contentType: 'text/csv' },
      },
      handle: async (ctx) => {
        const filter: CaseFilter = { ...(ctx.query.status === 'all' ? {} : { status: ctx.query.status }), ...since(ctx.query.since) };
        const detail = `format=${ctx.query.format} status=${ctx.query.status}${ctx.query.since ? ` since=${ctx.query.since}` : ''}`;
        await deps.audit.append(auditEntry({ ...ctx.principal, requestId: ctx.requestId }, deps.now(), { action: 'cases.export', outcome: 'applied', detail }));
        const csv = ctx.query.format === 'csv';
        return {
          status: 200,
          stream: {
            contentType: csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
            filename: `cases-${new Date(deps.now()).toISOString().slice(0, 10)}.${csv ? 'csv' : 'ndjson'}`,
            write: (out) => writeExport(deps.queries.scan(filter), ctx.query.format, out),
          },
        };
      },
    }),
  ];
}
