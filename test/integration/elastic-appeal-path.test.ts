import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { T0 } from '../support/events.js';
import { fairuse } from '../support/cli.js';
import { TOKENS, botEvents, dropTestIndexes, embeddedRun, esUrl, startTestApi, testPrefix, type TestApi } from '../support/elasticsearch.js';

const prefix = testPrefix('appeal-path');
const HOUR = 3_600_000;
const ACCOUNT = 'acc-path-bot';

/**
 * The whole policy path against real Elasticsearch: strikes from an embedded run, indexed with `fairuse index`,
 * pause the account; support opens an appeal and restores it through the API; a second run's strikes (a new
 * violation inside probation) suspend the account for good.
 */
describe('enforcement path through Elasticsearch', () => {
  let api: TestApi;
  let clock = T0 + HOUR;
  const agent = TOKENS.agent.token;
  const viewer = TOKENS.viewer.token;

  beforeAll(async () => {
    // A short TTL: strikes are indexed by another process (the CLI), which cannot invalidate this API's cache.
    api = await startTestApi({ prefix, now: () => clock, config: { http: { entitlementTtl: '200ms' } } });
  });
  afterAll(async () => {
    await api?.close();
    await dropTestIndexes(prefix);
  });

  const index = async (dir: string) => {
    const r = await fairuse(['index', '--from', dir, '--es', await esUrl(), '--index-prefix', prefix, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as { newTransitions: number; cases: { written: number } };
  };
  const getCase = async () => {
    const res = await api.call('GET', `/v1/cases/${ACCOUNT}`, { token: viewer });
    expect(res.status).toBe(200);
    return (await res.json()) as { case: { status: string; appeal: { status: string }; transitions: Array<{ from: string; to: string; actor: string }> }; actions: Array<{ action: string; outcome: string; actor: string }> };
  };
  const entitlement = async () => (await (await api.call('GET', `/v1/accounts/${ACCOUNT}/entitlement`, { token: viewer })).json()) as { access: string };
  const act = (path: string, body: object) => api.call('POST', `/v1/cases/${ACCOUNT}${path}`, { token: agent, body });

  it('strikes from an embedded run pause the account', async () => {
    const run = await embeddedRun(botEvents(ACCOUNT, 0, 20));
    expect(run.summary.accounts.paused).toBe(1);
    const stats = await index(run.dir);
    expect(stats).toMatchObject({ newTransitions: 1, cases: { written: 1 } });
    const { case: c } = await getCase();
    expect(c.status).toBe('paused');
    expect(c.transitions.map((t) => `${t.from}>${t.to}:${t.actor}`)).toEqual(['active>paused:system']);
    expect((await entitlement()).access).toBe('paused');
  });

  it('an agent opens an appeal and restores access', async () => {
    expect((await act('/appeal', { reason: 'customer says a teammate shared the key' })).status).toBe(200);
    expect((await getCase()).case.appeal.status).toBe('open');
    clock = T0 + 2 * HOUR;
    const res = await act('/appeal/decision', { decision: 'restore', reason: 'key rotated, first offence' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'applied', transition: { from: 'paused', to: 'active', actor: 'alice' } });
    const detail = await getCase();
    expect(detail.case).toMatchObject({ status: 'active', appeal: { status: 'restored' } });
    expect((await entitlement()).access).toBe('active'); // the write dropped the cached entitlement
  });

  it('a new violation within probation suspends the account permanently', async () => {
    const run = await embeddedRun(botEvents(ACCOUNT, 3 * 3600, 20));
    // The second run alone only sees a first offence and pauses; the index continues the stored standing.
    expect(run.summary.accounts.paused).toBe(1);
    await index(run.dir);
    const { case: c, actions } = await getCase();
    expect(c.status).toBe('suspended');
    expect(c.transitions.map((t) => `${t.from}>${t.to}`)).toEqual(['active>paused', 'paused>active', 'active>suspended']);
    expect(actions.map((a) => `${a.action}:${a.outcome}:${a.actor}`)).toEqual(['appeal.open:applied:alice', 'appeal.restore:applied:alice']);
    await expect.poll(async () => (await entitlement()).access, { timeout: 3000, interval: 100 }).toBe('suspended');

    // Suspension is final: neither support path can lift it.
    clock = T0 + 5 * HOUR;
    expect((await act('/restore', { reason: 'please' })).status).toBe(409);
    expect((await act('/appeal', { reason: 'please' })).status).toBe(409);
    expect((await getCase()).case.status).toBe('suspended');
  });
});
