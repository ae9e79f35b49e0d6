/**
 * `npm run bench:api`: entitlement lookups per second and latency of the support API against a real Elasticsearch
 * seeded with BENCH_CASES cases, measured with autocannon over HTTP, next to GET /healthz on the same server in the
 * same run (the ratio factors out the machine). Two servers share the index: one with the entitlement cache
 * (the default 2 s TTL), one without (every lookup reads Elasticsearch).
 *
 * Environment: ES_URL (default: start the dev node), BENCH_CASES (10000), BENCH_SECONDS (10 per scenario),
 * BENCH_CONNECTIONS (32). Prints a markdown table for BENCHMARKS.md.
 */
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { pino } from 'pino';
import { TokenAuthenticator } from '../adapters/http/auth.js';
import { dropIndexes, ensureIndexes, indexNames } from '../adapters/elastic/indexes.js';
import { elasticClient } from '../adapters/elastic/client.js';
import { CaseLedger, type CaseInput } from '../adapters/elastic/case-ledger.js';
import { ElasticSink } from '../adapters/elastic/sink.js';
import { DEFAULT_POLICY_FILE } from '../cli/defaults.js';
import { startElasticsearch, type ElasticsearchServer } from '../devservers/elasticsearch.js';
import { loadPolicy } from '../policy/load.js';
import { SupportConfig } from '../support/config.js';
import { startSupportService, type SupportService } from '../support/service.js';

/** The part of autocannon's API used here (it ships no types of its own). */
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
  requests?: Array<{ setupRequest(req: { path: string }): { path: string } }>;
}
type Autocannon = (opts: AutocannonOptions) => Promise<AutocannonResult>;

const CASES = Number(process.env.BENCH_CASES ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Elasticsearch-bound rows need their caches and JIT warm: a short warm-up made the first of them look slowest. */
const WARM_UP_SECONDS = 5;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const TOKEN = 'bench-viewer-token-00000000000000';
const NOW = Date.parse('2026-11-02T12:00:00Z');

function loadAutocannon(): Autocannon {
  try {
    return createRequire(import.meta.url)('autocannon') as Autocannon;
  } catch {
    console.error('autocannon is not installed: npm install --save-dev autocannon');
    process.exit(2);
  }
}

const accountId = (i: number) => `acc-bench-${String(i).padStart(6, '0')}`;

/** N cases (every third paused, the rest active with one strike) and a relaxed-speed decision for every fifth account. */
async function seed(url: string, prefix: string): Promise<void> {
  const client = elasticClient(url, { requestTimeoutMs: 60_000 });
  const names = indexNames(prefix);
  await ensureIndexes(client, names);
  const policy = (await loadPolicy(DEFAULT_POLICY_FILE)).enforcement;
  const ledger = new CaseLedger(client, names, policy);
  const inputs: CaseInput[] = [];
  for (let i = 0; i < CASES; i++) {
    const strikes = i % 3 === 0 ? 3 : 1;
    for (let j = 0; j < strikes; j++) {
      inputs.push({
        kind: 'strike',
        strike: {
          strikeId: `stk-bench-${i}-${j}`,
          ruleId: 'bench-rule',
          ruleVersion: 'v1',
          mode: 'enforce',
          severity: 'high',
          points: 4,
          accountId: accountId(i),
          at: new Date(NOW - 3_600_000 + j * 1000).toISOString(),
          reason: 'bench',
          tags: [],
          key: { field: 'accountId', value: accountId(i) },
          evidence: { triggerEventId: `e-${i}-${j}`, conditions: [], sampleEventIds: [] },
        },
      });
    }
  }
  await ledger.apply(inputs);
  const sink = new ElasticSink(client, { names });
  for (let i = 0; i < CASES; i += 5) {
    await sink.write({
      kind: 'speed-decision',
      value: { decisionId: `spd-bench-${i}`, accountId: accountId(i), kind: 'daily-fast-quota', speed: 'relaxed', at: new Date(NOW - 60_000).toISOString(), until: new Date(NOW + 86_400_000).toISOString(), reason: 'daily Fast limit reached', tool: 'image' },
    });
  }
  await sink.close();
  await client.indices.refresh({ index: Object.values(names) });
  await client.close();
}

async function api(url: string, prefix: string, entitlementTtl: string): Promise<SupportService> {
  return startSupportService({
    config: SupportConfig.parse({ elasticsearch: { indexPrefix: prefix }, http: { port: 0, entitlementTtl } }),
    esUrl: url,
    policy: await loadPolicy(DEFAULT_POLICY_FILE),
    tokens: new TokenAuthenticator([{ token: TOKEN, role: 'viewer', actor: 'bench' }]),
    logger: pino({ level: 'warn' }),
    now: () => NOW,
    schedule: false,
  });
}

async function main(): Promise<void> {
  const autocannon = loadAutocannon();
  let es: ElasticsearchServer | undefined;
  const esUrl = process.env.ES_URL ?? (es = await startElasticsearch({ fullJit: true })).url;
  const prefix = `bench-${process.pid}`;
  const started = performance.now();
  await seed(esUrl, prefix);
  const seedSeconds = (performance.now() - started) / 1000;
  const cached = await api(esUrl, prefix, '2s');
  const uncached = await api(esUrl, prefix, '1ms');
  try {
    const run = async (base: string, path: (n: number) => string) => {
      let n = 0;
      // One short warm-up (JIT, connection pools, ES caches), then the measured run.
      for (const duration of [WARM_UP_SECONDS, SECONDS]) {
        const r = await autocannon({
          url: base,
          connections: CONNECTIONS,
          duration,
          headers: { authorization: `Bearer ${TOKEN}` },
          requests: [{ setupRequest: (req) => ({ ...req, path: path(n++) }) }],
        });
        if (duration === SECONDS) return r;
      }
      throw new Error('unreachable');
    };
    const random = () => accountId(Math.floor(Math.random() * CASES));
    const rows: Array<[string, AutocannonResult]> = [
      ['GET /healthz (baseline)', await run(cached.url, () => '/healthz')],
      ['GET entitlement, cached (2 s TTL), random account', await run(cached.url, () => `/v1/accounts/${random()}/entitlement`)],
      ['GET entitlement, cached, one hot account', await run(cached.url, () => `/v1/accounts/${accountId(7)}/entitlement`)],
      ['GET entitlement, no cache (2 ES reads each)', await run(uncached.url, () => `/v1/accounts/${random()}/entitlement`)],
    ];
    const base = rows[0]![1].requests.average;
    console.log(`\nSupport API, ${CASES} cases, ${CONNECTIONS} connections, ${SECONDS} s per row, autocannon in the same process as the API; ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), Node ${process.version}, Elasticsearch at ${esUrl}; seeding took ${seedSeconds.toFixed(1)} s.\n`);
    console.log('| scenario | req/s | p50 ms | p99 ms | vs /healthz | non-2xx + errors |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [name, r] of rows) {
      console.log(`| ${name} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${(r.requests.average / base).toFixed(2)} | ${r.non2xx + r.errors + r.timeouts} |`);
    }
  } finally {
    await cached.close();
    await uncached.close();
    const client = elasticClient(esUrl);
    await dropIndexes(client, indexNames(prefix));
    await client.close();
    await es?.stop();
  }
}

await main();
