import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Client } from '@elastic/elasticsearch';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elasticClient } from '../../src/adapters/elastic/client.js';
import { ensureIndexes, indexNames } from '../../src/adapters/elastic/indexes.js';
import type { SinkRecord } from '../../src/adapters/elastic/records.js';
import { ElasticSink } from '../../src/adapters/elastic/sink.js';
import { T0 } from '../support/events.js';
import { dropTestIndexes, esUrl, strike, testPrefix } from '../support/elasticsearch.js';

const prefix = testPrefix('outage');
const names = indexNames(prefix);

/**
 * A TCP gate in front of the shared test node: closing it refuses new connections and cuts open ones, as an
 * Elasticsearch outage does, without disturbing the node for the test files running beside this one.
 */
class Gate {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: URL,
  ) {}

  open(): Promise<void> {
    const server = createServer((down) => {
      const up = connect(Number(this.target.port), this.target.hostname);
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      down.pipe(up).pipe(down);
    });
    this.server = server;
    return new Promise((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const records = (from: number, to: number): SinkRecord[] =>
  Array.from({ length: to - from }, (_, i) => ({ kind: 'strike', value: strike(`acc-out-${(from + i) % 7}`, `stk-out-${from + i}`, T0 + (from + i) * 1000, 1) }));

describe('ElasticSink during an Elasticsearch outage', () => {
  let direct: Client;
  let gate: Gate;
  let gated: Client;

  beforeAll(async () => {
    const url = new URL(await esUrl());
    direct = elasticClient(url.toString());
    await ensureIndexes(direct, names);
    gate = new Gate(await freePort(), url);
    gated = elasticClient(`http://127.0.0.1:${gate.port}`, { requestTimeoutMs: 2_000 });
  });
  afterAll(async () => {
    await gate?.close();
    await gated?.close();
    await direct?.close();
    await dropTestIndexes(prefix);
  });

  const strikeIds = async () => {
    await direct.indices.refresh({ index: names.strikes });
    const res = await direct.search({ index: names.strikes, size: 10_000, _source: false, query: { match_all: {} } });
    return res.hits.hits.map((h) => h._id!).sort();
  };
  const sink = () => new ElasticSink(gated, { names, maxBuffered: 200, batchSize: 50, lingerMs: 10, backoff: { baseMs: 50, maxMs: 400 }, logger: pino({ level: 'silent' }) });

  it('holds the writer back while Elasticsearch is down, catches up afterwards and loses nothing', async () => {
    await gate.open();
    const s = sink();
    await s.writeAll(records(0, 300));
    await s.flush();
    expect(s.stats.written).toBe(300);

    await gate.close(); // outage in the middle of the run
    let accepted = 300;
    const writer = (async () => {
      for (const r of records(300, 1000)) {
        await s.write(r);
        accepted++;
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    // Backpressure: the buffer is full and the writer is paused instead of dropping or growing without bound.
    expect(s.stats.buffered).toBe(200);
    expect(accepted).toBeLessThanOrEqual(300 + 200);
    expect(s.stats.retries).toBeGreaterThan(0);

    await gate.open(); // Elasticsearch is back
    await writer;
    await s.flush();
    expect(accepted).toBe(1000);
    expect(s.stats).toMatchObject({ written: 1000, rejected: 0, buffered: 0 });
    const ids = await strikeIds();
    expect(ids).toHaveLength(1000);
    expect(ids).toEqual(records(0, 1000).map((r) => (r.kind === 'strike' ? r.value.strikeId : '')).sort());
  });

  it('starts while Elasticsearch is unreachable and indexes everything once the port comes up', async () => {
    await gate.close();
    const s = sink();
    await s.writeAll(records(1000, 1150));
    let flushed = false;
    const flushing = s.flush().then(() => (flushed = true));
    await new Promise((r) => setTimeout(r, 800));
    expect(flushed).toBe(false);
    await gate.open();
    await flushing;
    expect(s.stats).toMatchObject({ written: 150, rejected: 0 });
    expect(await strikeIds()).toHaveLength(1150);
  });

  it('a replay after the outage (say, the consumer re-reads uncommitted offsets) adds no duplicates', async () => {
    const s = sink();
    await s.writeAll(records(900, 1150));
    await s.flush();
    expect(s.stats).toMatchObject({ written: 0, duplicates: 250 });
    expect(await strikeIds()).toHaveLength(1150);
  });
});
