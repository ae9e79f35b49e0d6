import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import { DEFAULT_BACKOFF, backoffDelay, retryable, sendBulk, sleep, type Backoff, type BulkOp } from './bulk.js';
import type { IndexNames } from './indexes.js';
import { bulkOpOf, type SinkRecord } from './records.js';

export interface ElasticSinkOptions {
  names: IndexNames;
  /** Records held in memory at most (queued plus in flight); `write()` waits while it is full. Default 10 000. */
  maxBuffered?: number;
  /** Records per bulk request; default 500. */
  batchSize?: number;
  /** How long a partial batch waits for more records before it is sent; default 50 ms. */
  lingerMs?: number;
  backoff?: Backoff;
  logger?: Logger;
  now?: () => number;
  /** Called for a record Elasticsearch refuses outright (a mapping error: a bug, never an outage). */
  onRejected?(rec: SinkRecord, error: string): void;
}

export interface SinkStats {
  /** Newly indexed. */
  written: number;
  /** Already in the index (a replay, or a retry of a request that had in fact succeeded). */
  duplicates: number;
  rejected: number;
  /** Bulk requests or items sent again after an outage, overload or timeout. */
  retries: number;
  buffered: number;
}

interface Pending {
  rec: SinkRecord;
  op: BulkOp;
}

/**
 * Bulk-indexes strikes, transitions, speed decisions, dead letters and audit entries, for the embedded run's
 * `fairuse index` and for the Kafka stage alike:
 *
 *   for each message: await sink.write({ kind: 'strike', value })   // pauses the caller while the buffer is full
 *   before committing offsets: await sink.flush()                    // everything written so far is acknowledged
 *
 * When Elasticsearch is down or overloaded the current batch is retried with exponential backoff, without limit,
 * while the buffer fills and then holds the caller back: nothing is dropped, and it catches up once Elasticsearch
 * answers again. Ids are deterministic and every write is a `create`, so replays and retries make no duplicates.
 */
export class ElasticSink {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private pumping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private spaceWaiters: Array<() => void> = [];
  private closed = false;
  private readonly opts: Required<Omit<ElasticSinkOptions, 'logger' | 'onRejected'>> & Pick<ElasticSinkOptions, 'logger' | 'onRejected'>;
  readonly stats: SinkStats = { written: 0, duplicates: 0, rejected: 0, retries: 0, buffered: 0 };

  constructor(
    private readonly client: Client,
    opts: ElasticSinkOptions,
  ) {
    this.opts = { maxBuffered: 10_000, batchSize: 500, lingerMs: 50, backoff: DEFAULT_BACKOFF, now: Date.now, ...opts };
    if (this.opts.batchSize > this.opts.maxBuffered) this.opts.batchSize = this.opts.maxBuffered;
  }

  private get buffered(): number {
    return this.queue.length + this.inFlight;
  }

  /** Queues one record; the promise resolves once it is buffered, which waits while the buffer is full. */
  async write(rec: SinkRecord): Promise<void> {
    if (this.closed) throw new Error('ElasticSink is closed');
    while (this.buffered >= this.opts.maxBuffered) {
      this.start();
      await new Promise<void>((r) => this.spaceWaiters.push(r));
    }
    this.queue.push({ rec, op: bulkOpOf(rec, this.opts.names, this.opts.now()) });
    this.stats.buffered = this.buffered;
    if (this.queue.length >= this.opts.batchSize) this.start();
    else this.timer ??= setTimeout(() => this.start(), this.opts.lingerMs);
  }

  async writeAll(recs: Iterable<SinkRecord>): Promise<void> {
    for (const rec of recs) await this.write(rec);
  }

  /** Resolves when every record written so far is in Elasticsearch (or was refused as malformed). */
  async flush(): Promise<void> {
    while (this.buffered > 0 || this.pumping) await this.start();
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private start(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
    return this.pumping;
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.batchSize);
      this.inFlight = batch.length;
      const again = await this.send(batch);
      this.inFlight = 0;
      if (again.length > 0) {
        // Item-level overload (429) or an unavailable shard: those go first in the next round, after a pause.
        this.queue.unshift(...again);
        this.stats.retries++;
        await sleep(backoffDelay(0, this.opts.backoff));
      }
      this.stats.buffered = this.buffered;
      const waiters = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Sends one batch until Elasticsearch answers; returns the records to try again. */
  private async send(batch: Pending[]): Promise<Pending[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        const outcomes = await sendBulk(this.client, batch.map((p) => p.op));
        const again: Pending[] = [];
        outcomes.forEach((o, i) => {
          const p = batch[i]!;
          if (o.kind === 'ok') this.stats.written++;
          else if (o.kind === 'exists' || o.kind === 'conflict') this.stats.duplicates++;
          else if (o.kind === 'retry') again.push(p);
          else this.reject(p, o.error);
        });
        return again;
      } catch (err) {
        if (!retryable(err)) {
          for (const p of batch) this.reject(p, String(err));
          return [];
        }
        const delay = backoffDelay(attempt, this.opts.backoff);
        this.stats.retries++;
        this.opts.logger?.warn({ attempt: attempt + 1, delayMs: delay, records: batch.length, err: (err as Error).message }, 'elasticsearch bulk failed; retrying');
        await sleep(delay);
      }
    }
  }

  private reject(p: Pending, error: string): void {
    this.stats.rejected++;
    this.opts.logger?.error({ kind: p.rec.kind, id: p.op.id, index: p.op.index, error }, 'elasticsearch refused a record');
    this.opts.onRejected?.(p.rec, error);
  }
}
