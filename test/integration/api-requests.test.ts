import { request } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElasticSink } from '../../src/adapters/elastic/sink.js';
import type { SpeedDecision } from '../../src/contract/outputs.js';
import { T0 } from '../support/events.js';
import { TOKENS, dropTestIndexes, parseCsv, startTestApi, strike, testPrefix, type TestApi } from '../support/elasticsearch.js';

const prefix = testPrefix('api-requests');
const HOUR = 3_600_000;
const agent = TOKENS.agent.token;
const viewer = TOKENS.viewer.token;
const admin = TOKENS.admin.token;

/** A request with the path exactly as written (fetch would normalise `..` away). */
function raw(url: string, path: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('API requests', () => {
  let api: TestApi;
  const clock = T0 + HOUR;

  beforeAll(async () => {
    api = await startTestApi({ prefix, now: () => clock, config: { http: { maxBodyBytes: 1024, maxPageSize: 50 } } });
    // 30 cases: acc-a-00..14 paused (12 points), acc-b-00..14 active (4 points); one with a hostile id.
    const inputs = Array.from({ length: 30 }, (_, i) => {
      const id = `acc-${i < 15 ? 'a' : 'b'}-${String(i % 15).padStart(2, '0')}`;
      const n = i < 15 ? 3 : 1;
      return Array.from({ length: n }, (_, j) => ({ kind: 'strike' as const, strike: strike(id, `stk-rq-${i}-${j}`, T0 + i * 1000 + j, 4) }));
    }).flat();
    inputs.push({ kind: 'strike', strike: strike('@SUM(1+1)*cmd', 'stk-rq-hostile', T0, 1) });
    await api.es.ledger.apply(inputs);
    await api.es.client.indices.refresh({ index: api.es.names.cases });
  });
  afterAll(async () => {
    await api?.close();
    await dropTestIndexes(prefix);
  });

  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; issues?: Array<{ path: string }> } }).error;

  describe('malformed bodies', () => {
    const pause = (init: { rawBody?: string; body?: unknown; headers?: Record<string, string> }) => api.call('POST', '/v1/cases/acc-b-00/pause', { token: agent, ...init });

    it('bad JSON is 400 invalid_json', async () => {
      const res = await pause({ rawBody: '{"reason": "unterminated' });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe('invalid_json');
    });
    it('a body that is not application/json is 415', async () => {
      const res = await pause({ rawBody: 'reason=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.status).toBe(415);
      const plain = await fetch(`${api.url}/v1/cases/acc-b-00/pause`, { method: 'POST', headers: { authorization: `Bearer ${agent}` }, body: '{"reason":"x"}' });
      expect(plain.status).toBe(415);
    });
    it('an oversized body is 413, whether announced or streamed', async () => {
      expect((await pause({ body: { reason: 'x'.repeat(2000) } })).status).toBe(413);
      const chunked = await fetch(`${api.url}/v1/cases/acc-b-00/pause`, {
        method: 'POST',
        headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' },
        body: new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(`{"reason":"${'y'.repeat(4000)}"}`));
            c.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
    });
    it('unknown fields, missing or empty reasons, wrong types and non-objects are 400 with the offending path', async () => {
      for (const body of [{ reason: 'x', actor: 'someone-else' }, {}, { reason: '   ' }, { reason: 42 }, ['reason'], 'reason', null]) {
        const res = await pause({ body });
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect((await errorOf(res)).code).toBe('invalid_request');
      }
      const res = await api.call('POST', '/v1/cases/acc-a-00/appeal/decision', { token: agent, body: { decision: 'pardon', reason: 'x' } });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).issues?.map((i) => i.path)).toEqual(['decision']);
    });
    it('nothing malformed reaches the case', async () => {
      const c = (await (await api.call('GET', '/v1/cases/acc-b-00', { token: viewer })).json()) as { case: { status: string }; actions: Array<{ outcome: string }> };
      expect(c.case.status).toBe('active');
      expect(c.actions.length).toBeGreaterThan(0);
      expect(new Set(c.actions.map((a) => a.outcome))).toEqual(new Set(['invalid']));
    });
  });

  describe('hostile ids and queries', () => {
    // `.` and `..` segments, literal or as %2E, are normalised away by fetch itself; the raw-path test covers them.
    const HOSTILE = ['*', '%2E%2E%2F', '..%2F..%2Fetc', encodeURIComponent('{"match_all":{}}'), 'acc-a-00%20OR%201', 'acc%2A', 'acc-a-00%00', `a${'b'.repeat(128)}`, '%E0%A4%A'];

    it('ids outside the account id alphabet are 400 on every account endpoint and leak nothing', async () => {
      for (const id of HOSTILE) {
        for (const [method, path] of [
          ['GET', `/v1/cases/${id}`],
          ['GET', `/v1/accounts/${id}/entitlement`],
          ['POST', `/v1/cases/${id}/pause`],
        ] as const) {
          const res = await api.call(method, path, { token: admin, ...(method === 'POST' ? { body: { reason: 'x' } } : {}) });
          const text = await res.text();
          expect(res.status, `${method} ${path}`).toBe(400);
          expect(text).not.toContain('acc-a-');
        }
      }
    });
    it('a path with dot segments is refused, not resolved to another endpoint', async () => {
      for (const path of ['/v1/cases/../cases', '/v1/cases/acc-a-00/../acc-a-01', '/v1/cases/../', '/v1/cases/./acc-a-00', '/v1/cases/%2E%2E', '/v1/cases/%2e', '/v1/accounts/../cases/acc-a-00/entitlement']) {
        const res = await raw(api.url, path, admin);
        expect(res.status, path).toBe(400);
        expect(res.body).not.toContain('acc-a-');
      }
    });
    it('search parameters are literal values: wildcards and query DSL are refused, not interpreted', async () => {
      for (const q of ['q=*', 'q=acc*', `q=${encodeURIComponent('{"match_all":{}}')}`, 'q=acc%20OR%20x', 'rule=*', 'status=*', 'status=all', 'since=forever', 'size=51', 'size=0', 'page=0', 'page=-1', 'tool=*', 'sort=accountId', 'q=a&q=b']) {
        const res = await api.call('GET', `/v1/cases?${q}`, { token: viewer });
        expect(res.status, q).toBe(400);
      }
    });
    it('an account id prefix finds only the accounts that start with it', async () => {
      const res = await api.call('GET', '/v1/cases?q=ACC-A-0&size=50', { token: viewer });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { total: number; cases: Array<{ accountId: string }> };
      expect(page.total).toBe(10);
      expect(page.cases.every((c) => c.accountId.startsWith('acc-a-0'))).toBe(true);
    });
  });

  describe('case lists', () => {
    it('filters by status and rule, pages with a bounded size, newest first', async () => {
      const get = async (qs: string) => (await (await api.call('GET', `/v1/cases?${qs}`, { token: viewer })).json()) as { total: number; page: number; size: number; cases: Array<{ accountId: string; status: string; updatedAt: string }> };
      const paused = await get('status=paused&size=10&page=2');
      expect(paused).toMatchObject({ total: 15, page: 2, size: 10 });
      expect(paused.cases).toHaveLength(5);
      expect(paused.cases.every((c) => c.status === 'paused')).toBe(true);
      const all = await get('rule=test-rule&size=50');
      expect(all.total).toBe(31);
      const times = all.cases.map((c) => c.updatedAt);
      expect(times).toEqual([...times].sort().reverse());
      expect((await get('rule=no-such-rule')).total).toBe(0);
      expect((await get(`since=${encodeURIComponent(new Date(T0 + 20_000).toISOString())}&size=50`)).total).toBe(10);
      expect((await api.call('GET', '/v1/cases?page=500&size=50', { token: viewer })).status).toBe(400);
    });
    it('a case read has strikes with evidence and the transition timeline; an unknown account is 404', async () => {
      const res = await api.call('GET', '/v1/cases/acc-a-03', { token: viewer });
      const { case: c } = (await res.json()) as { case: { strikes: Array<{ evidence: object }>; transitions: Array<{ to: string }> } };
      expect(c.strikes).toHaveLength(3);
      expect(c.strikes[0]!.evidence).toHaveProperty('triggerEventId');
      expect(c.transitions.map((t) => t.to)).toEqual(['paused']);
      expect((await api.call('GET', '/v1/cases/acc-nobody', { token: viewer })).status).toBe(404);
    });
  });

  describe('commands', () => {
    it('an Idempotency-Key makes a retried request apply once', async () => {
      const send = () => api.call('POST', '/v1/cases/acc-a-05/appeal', { token: agent, body: { reason: 'retry-safe' }, headers: { 'idempotency-key': 'appeal-a05-1' } });
      const first = (await (await send()).json()) as { outcome: string; command: { commandId: string } };
      const second = (await (await send()).json()) as { outcome: string; command: { commandId: string } };
      expect(first.outcome).toBe('applied');
      expect(second).toMatchObject({ outcome: 'duplicate', command: { commandId: first.command.commandId } });
      expect((await api.call('POST', '/v1/cases/acc-a-05/appeal', { token: agent, body: { reason: 'x' }, headers: { 'idempotency-key': 'no spaces' } })).status).toBe(400);
    });
    it('a command the state machine refuses is 409 with its reason and changes nothing', async () => {
      const res = await api.call('POST', '/v1/cases/acc-b-01/appeal/decision', { token: agent, body: { decision: 'restore', reason: 'no appeal is open' } });
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ outcome: 'refused', error: expect.stringContaining('needs a paused account with an open appeal') });
    });
  });

  describe('entitlements', () => {
    it('combine the case status with the speed decisions in force, per tool, and drop the cache on writes', async () => {
      const decision = (id: string, over: Partial<SpeedDecision>): SpeedDecision => ({
        decisionId: id,
        accountId: 'acc-b-02',
        kind: 'daily-fast-quota',
        speed: 'relaxed',
        at: new Date(clock - HOUR / 2).toISOString(),
        until: new Date(clock + HOUR).toISOString(),
        reason: id,
        ...over,
      });
      const sink = new ElasticSink(api.es.client, { names: api.es.names, logger: pino({ level: 'silent' }) });
      await sink.writeAll(
        [
          decision('image quota', { tool: 'image' }),
          decision('video blocked', { tool: 'video', speed: 'blocked', until: new Date(clock + 2 * HOUR).toISOString() }),
          decision('expired throttle', { kind: 'sustained-activity', speed: 'blocked', until: new Date(clock - 1).toISOString() }),
          decision('future throttle', { kind: 'sustained-activity', speed: 'blocked', at: new Date(clock + 1).toISOString() }),
        ].map((value) => ({ kind: 'speed-decision' as const, value })),
      );
      await sink.flush();
      await api.es.client.indices.refresh({ index: api.es.names.speedDecisions });
      const get = async (qs = '') => (await (await api.call('GET', `/v1/accounts/acc-b-02/entitlement${qs}`, { token: viewer })).json()) as Record<string, unknown>;

      expect(await get('?tool=image')).toEqual({ accountId: 'acc-b-02', access: 'active', speed: 'relaxed', until: new Date(clock + HOUR).toISOString(), reasons: ['image quota'] });
      expect(await get()).toMatchObject({ speed: 'blocked', until: new Date(clock + 2 * HOUR).toISOString(), reasons: ['video blocked', 'image quota'] });
      expect((await api.call('GET', '/v1/accounts/acc-b-02/entitlement?tool=sound', { token: viewer })).status).toBe(400);

      expect((await api.call('POST', '/v1/cases/acc-b-02/pause', { token: agent, body: { reason: 'chargeback' } })).status).toBe(200);
      expect(await get('?tool=image')).toMatchObject({ access: 'paused', speed: 'blocked', until: null, reasons: ['manual.pause by alice: chargeback'] });
    });
  });

  describe('export', () => {
    it('streams spreadsheet-safe CSV with one row per case in the index, and audits it', async () => {
      const res = await api.call('GET', '/v1/exports/cases?status=paused', { token: admin, headers: { 'x-request-id': 'export-req-1' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="cases-\d{4}-\d{2}-\d{2}\.csv"$/);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const [header, ...rows] = parseCsv(new TextDecoder().decode(bytes.slice(3)));
      expect(header![0]).toBe('accountId');
      const paused = await api.es.client.search<{ accountId: string }>({ index: api.es.names.cases, query: { term: { status: 'paused' } }, size: 100, sort: [{ accountId: 'asc' }] });
      expect(rows.map((r) => r[0])).toEqual(paused.hits.hits.map((h) => h._source!.accountId));
      expect(rows.every((r) => r[1] === 'paused' && r.length === 9)).toBe(true);

      const all = parseCsv((await (await api.call('GET', '/v1/exports/cases', { token: admin })).text()).slice(1));
      expect(all.map((r) => r[0])).toContain("'@SUM(1+1)*cmd");

      const ndjson = await (await api.call('GET', '/v1/exports/cases?format=ndjson&status=suspended', { token: admin })).text();
      expect(ndjson).toBe('');
      expect((await api.call('GET', '/v1/exports/cases?format=xlsx', { token: admin })).status).toBe(400);
    });
  });
});
