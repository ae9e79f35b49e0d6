import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { elasticClient } from '../../src/adapters/elastic/client.js';
import { dropIndexes, indexNames } from '../../src/adapters/elastic/indexes.js';
import { TokenAuthenticator, type Role } from '../../src/adapters/http/auth.js';
import { DEFAULT_POLICY_FILE, DEFAULT_RULES_DIR } from '../../src/cli/defaults.js';
import type { GenerationEvent } from '../../src/contract/event.js';
import type { Strike } from '../../src/contract/outputs.js';
import { startElasticsearch } from '../../src/devservers/elasticsearch.js';
import { ev } from './events.js';
import { runEmbedded, type RunSummary } from '../../src/embedded/run.js';
import { loadPolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/schema.js';
import { loadRuleDir } from '../../src/rules/load.js';
import { SupportConfig } from '../../src/support/config.js';
import { startSupportService, type SupportService } from '../../src/support/service.js';

let started: Promise<string> | undefined;

/**
 * Base URL of the Elasticsearch node for tests: `$ES_URL` when set (by CI or by the integration globalSetup),
 * otherwise a node started once for this test process. That node stops when the process exits, however it
 * exits (see the watchdog in src/devservers/elasticsearch.ts); its data dir is pruned by the next start.
 */
export function esUrl(): Promise<string> {
  const fromEnv = process.env.ES_URL;
  if (fromEnv) return Promise.resolve(fromEnv);
  started ??= startElasticsearch().then((server) => server.url);
  return started;
}

/** An index prefix of its own for each test file (and run), so files can run in parallel against one node. */
export function testPrefix(name: string): string {
  return `it-${name}-${process.pid}-${Date.now().toString(36)}`;
}

export async function dropTestIndexes(prefix: string): Promise<void> {
  const client = elasticClient(await esUrl());
  try {
    await dropIndexes(client, indexNames(prefix));
  } finally {
    await client.close();
  }
}

export const TOKENS: Record<Role, { token: string; role: Role; actor: string }> = {
  viewer: { token: 'viewer-7a0f3c9e1b2d4f6a8c0e', role: 'viewer', actor: 'vera' },
  agent: { token: 'agent-5b1d7e3f9a2c4e6b8d0f1a', role: 'agent', actor: 'alice' },
  admin: { token: 'admin-3c9e1b2d4f6a8c0e7a0f5b', role: 'admin', actor: 'ada' },
};

export interface TestApi extends SupportService {
  /** One request with an optional bearer token and JSON body. */
  call(method: string, path: string, opts?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<Response>;
}

/** The support API on a free port against the test node, with the test tokens and a clock the test controls. */
export async function startTestApi(opts: { prefix: string; now?: () => number; config?: Record<string, unknown>; policy?: Policy }): Promise<TestApi> {
  const config = SupportConfig.parse({ ...opts.config, elasticsearch: { indexPrefix: opts.prefix }, http: { port: 0, ...(opts.config?.http as object) } });
  const service = await startSupportService({
    config,
    esUrl: await esUrl(),
    policy: opts.policy ?? (await defaultPolicy()),
    tokens: new TokenAuthenticator(Object.values(TOKENS)),
    logger: pino({ level: 'silent' }),
    schedule: false,
    ...(opts.now ? { now: opts.now } : {}),
  });
  return Object.assign(service, {
    call: (method: string, path: string, o: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}) =>
      fetch(service.url + path, {
        method,
        headers: {
          ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
          ...(o.body !== undefined || o.rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
          ...o.headers,
        },
        ...(o.rawBody !== undefined ? { body: o.rawBody } : o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
      }),
  });
}

export function defaultPolicy(): Promise<Policy> {
  return loadPolicy(DEFAULT_POLICY_FILE);
}

/**
 * Runs the real embedded pipeline (shipped rules and policy) over events, plus raw lines (bad ones become dead
 * letters); returns its output dir and summary.
 */
export async function embeddedRun(events: GenerationEvent[], rawLines: string[] = []): Promise<{ dir: string; summary: RunSummary }> {
  const dir = await mkdtemp(join(tmpdir(), 'fairuse-es-run-'));
  const input = join(dir, 'events.ndjson');
  const sorted = [...events].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  await writeFile(input, [...sorted.map((e) => JSON.stringify(e)), ...rawLines].join('\n') + '\n');
  const [rules, policy] = await Promise.all([loadRuleDir(DEFAULT_RULES_DIR), defaultPolicy()]);
  const out = join(dir, 'out');
  const summary = await runEmbedded({ input, out, rules, policy });
  return { dir: out, summary };
}

/**
 * A metronomic script: one generation every 30 s for `minutes`, starting `fromSeconds` after T0 (test/support/events).
 * With the shipped rules, 20 minutes earn 15 strike points (pause at 10, suspend at 30).
 */
export function botEvents(accountId: string, fromSeconds: number, minutes: number): GenerationEvent[] {
  return Array.from({ length: minutes * 2 }, (_, i) => ev(fromSeconds + i * 30, { accountId, deviceId: `d-${accountId}`, client: 'api' }).event);
}

/** A valid enforced strike, for tests that drive cases directly. */
export function strike(accountId: string, strikeId: string, at: number, points: number): Strike {
  return {
    strikeId,
    ruleId: 'test-rule',
    ruleVersion: 'v1',
    mode: 'enforce',
    severity: 'high',
    points,
    accountId,
    at: new Date(at).toISOString(),
    reason: 'test strike',
    tags: [],
    key: { field: 'accountId', value: accountId },
    evidence: { triggerEventId: `e-${strikeId}`, conditions: [], sampleEventIds: [] },
  };
}

/** A strict RFC 4180 reader (quoted fields, doubled quotes, CRLF), to check what spreadsheets will see. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else if (ch === '\n' || ch === '\r' || ch === '"') throw new Error(`bare ${JSON.stringify(ch)} at ${i}: not RFC 4180 with CRLF`);
    else cell += ch;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (cell !== '' || row.length > 0) throw new Error('last row not terminated by CRLF');
  return rows;
}
