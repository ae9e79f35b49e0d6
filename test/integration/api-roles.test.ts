import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/adapters/http/auth.js';
import { T0 } from '../support/events.js';
import { TOKENS, dropTestIndexes, startTestApi, strike, testPrefix, type TestApi } from '../support/elasticsearch.js';

const prefix = testPrefix('api-roles');
const ACCOUNT = 'acc-role-1';

interface Endpoint {
  method: 'GET' | 'POST';
  /** The OpenAPI path template. */
  template: string;
  path: string;
  body?: object;
  /** The lowest role allowed; every role above it is allowed too. */
  min: Role | 'public';
}

/** The role matrix, written out by hand: what the API must enforce and what its OpenAPI document must state. */
const MATRIX: Endpoint[] = [
  { method: 'GET', template: '/healthz', path: '/healthz', min: 'public' },
  { method: 'GET', template: '/openapi.json', path: '/openapi.json', min: 'public' },
  { method: 'GET', template: '/v1/accounts/{accountId}/entitlement', path: `/v1/accounts/${ACCOUNT}/entitlement`, min: 'viewer' },
  { method: 'GET', template: '/v1/cases', path: '/v1/cases', min: 'viewer' },
  { method: 'GET', template: '/v1/cases/{accountId}', path: `/v1/cases/${ACCOUNT}`, min: 'viewer' },
  { method: 'POST', template: '/v1/cases/{accountId}/appeal', path: `/v1/cases/${ACCOUNT}/appeal`, body: { reason: 'matrix' }, min: 'agent' },
  { method: 'POST', template: '/v1/cases/{accountId}/appeal/decision', path: `/v1/cases/${ACCOUNT}/appeal/decision`, body: { decision: 'uphold', reason: 'matrix' }, min: 'agent' },
  { method: 'POST', template: '/v1/cases/{accountId}/pause', path: `/v1/cases/${ACCOUNT}/pause`, body: { reason: 'matrix' }, min: 'agent' },
  { method: 'POST', template: '/v1/cases/{accountId}/restore', path: `/v1/cases/${ACCOUNT}/restore`, body: { reason: 'matrix' }, min: 'agent' },
  { method: 'POST', template: '/v1/cases/{accountId}/suspend', path: `/v1/cases/${ACCOUNT}/suspend`, body: { reason: 'matrix' }, min: 'admin' },
  { method: 'GET', template: '/v1/exports/cases', path: '/v1/exports/cases', min: 'admin' },
];

const ROLES: Role[] = ['viewer', 'agent', 'admin'];
const allowed = (role: Role, min: Endpoint['min']) => min === 'public' || ROLES.indexOf(role) >= ROLES.indexOf(min);

describe('API roles and authentication', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ prefix });
    await api.es.ledger.apply([0, 1, 2].map((i) => ({ kind: 'strike' as const, strike: strike(ACCOUNT, `stk-role-${i}`, T0 + i, 4) }))); // paused
  });
  afterAll(async () => {
    await api?.close();
    await dropTestIndexes(prefix);
  });

  it('the OpenAPI document lists exactly these endpoints with these roles', async () => {
    const doc = (await (await api.call('GET', '/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { 'x-required-role': string }>> };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => `${m.toUpperCase()} ${path} ${op['x-required-role']}`));
    expect(documented.sort()).toEqual(MATRIX.map((e) => `${e.method} ${e.template} ${e.min}`).sort());
  });

  for (const e of MATRIX) {
    describe(`${e.method} ${e.template}`, () => {
      const call = (token?: string) => api.call(e.method, e.path, { ...(token ? { token } : {}), ...(e.body ? { body: e.body } : {}) });

      if (e.min === 'public') {
        it('answers without a token', async () => expect((await call()).status).toBe(200));
        return;
      }
      it('refuses a request without a token (401)', async () => {
        const res = await call();
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      });
      it('refuses an unknown token (401)', async () => {
        expect((await call('not-a-real-token-but-long-enough')).status).toBe(401);
        expect((await api.call(e.method, e.path, { headers: { authorization: `Basic ${Buffer.from('ada:pw').toString('base64')}` } })).status).toBe(401);
        expect((await call(`${TOKENS.admin.token}x`)).status).toBe(401);
      });
      for (const role of ROLES) {
        if (allowed(role, e.min)) {
          it(`lets ${role} through`, async () => {
            const res = await call(TOKENS[role].token);
            // Allowed means past the role check: reads succeed, commands are applied or refused by the state machine.
            expect(e.method === 'GET' ? [200] : [200, 409]).toContain(res.status);
            if (e.method === 'POST') expect(['applied', 'duplicate', 'refused']).toContain(((await res.json()) as { outcome: string }).outcome);
          });
        } else {
          it(`refuses ${role} (403)`, async () => {
            const res = await call(TOKENS[role].token);
            expect(res.status).toBe(403);
            expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden');
          });
        }
      }
    });
  }

  it('audits refused writes with actor, role, request id and outcome', async () => {
    const res = await api.call('POST', `/v1/cases/${ACCOUNT}/suspend`, { token: TOKENS.agent.token, body: { reason: 'agents cannot suspend' }, headers: { 'x-request-id': 'req-role-audit-1' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-request-id')).toBe('req-role-audit-1');
    const detail = (await (await api.call('GET', `/v1/cases/${ACCOUNT}`, { token: TOKENS.viewer.token })).json()) as { actions: Array<Record<string, string>> };
    expect(detail.actions).toContainEqual(
      expect.objectContaining({ action: 'manual.suspend', actor: 'alice', role: 'agent', requestId: 'req-role-audit-1', outcome: 'forbidden', accountId: ACCOUNT }),
    );
  });
});
