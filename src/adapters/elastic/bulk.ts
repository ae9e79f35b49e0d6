import { errors, type Client, type estypes } from '@elastic/elasticsearch';

/**
 * One bulk operation. `create` is how immutable records are written: their ids are deterministic, so a replay
 * finds the document already there (409) and changes nothing. Case documents use `index`/`create` with
 * `ifSeqNo`/`ifPrimaryTerm` for optimistic concurrency.
 */
export interface BulkOp {
  op: 'create' | 'index' | 'delete';
  index: string;
  id: string;
  doc?: object;
  ifSeqNo?: number;
  ifPrimaryTerm?: number;
}

/** What became of one operation: written, already there (create), lost a concurrency race, worth retrying, or refused. */
export type ItemOutcome = { kind: 'ok' } | { kind: 'exists' } | { kind: 'conflict' } | { kind: 'retry'; error: string } | { kind: 'rejected'; error: string };

/** Sends one bulk request; throws on request-level failure (use `retryable` to decide whether to try again). */
export async function sendBulk(client: Client, ops: readonly BulkOp[], refresh?: boolean | 'wait_for'): Promise<ItemOutcome[]> {
  if (ops.length === 0) return [];
  const operations: unknown[] = [];
  for (const o of ops) {
    const meta = { _index: o.index, _id: o.id, ...(o.ifSeqNo === undefined ? {} : { if_seq_no: o.ifSeqNo, if_primary_term: o.ifPrimaryTerm }) };
    operations.push({ [o.op]: meta });
    if (o.op !== 'delete') operations.push(o.doc);
  }
  const res = await client.bulk({ operations, ...(refresh === undefined ? {} : { refresh }) });
  return res.items.map((item, i) => outcomeOf(item, ops[i]!));
}

function outcomeOf(item: Partial<Record<estypes.BulkOperationType, estypes.BulkResponseItem>>, op: BulkOp): ItemOutcome {
  const r = item[op.op];
  if (!r) return { kind: 'rejected', error: 'no result for the operation' };
  const error = r.error ? `${r.error.type}: ${r.error.reason ?? ''}` : '';
  if (r.status < 300 || (op.op === 'delete' && r.status === 404)) return { kind: 'ok' };
  if (r.status === 409) return op.ifSeqNo === undefined && op.op === 'create' ? { kind: 'exists' } : { kind: 'conflict' };
  if (r.status === 429 || r.status >= 500) return { kind: 'retry', error };
  return { kind: 'rejected', error };
}

/** Connection failures, timeouts, overload and unavailable shards pass; bad requests do not. */
export function retryable(err: unknown): boolean {
  if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError || err instanceof errors.NoLivingConnectionsError) return true;
  if (err instanceof errors.ResponseError) return err.statusCode === 429 || (err.statusCode ?? 0) >= 500;
  return false;
}

export interface Backoff {
  /** First delay; doubles per attempt. */
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 100, maxMs: 10_000 };

/** Exponential backoff with jitter, so that many writers do not retry in lockstep. */
export function backoffDelay(attempt: number, b: Backoff): number {
  const ceiling = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `fn` until it succeeds or fails with an error that is not worth retrying, backing off in between;
 * `attempts` bounds the tries (default: unbounded, for writers that must not lose anything).
 */
export async function withRetry<T>(fn: () => Promise<T>, opts: { backoff?: Backoff; attempts?: number; onRetry?: (err: unknown, attempt: number, delayMs: number) => void } = {}): Promise<T> {
  const b = opts.backoff ?? DEFAULT_BACKOFF;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!retryable(err) || attempt + 1 >= (opts.attempts ?? Number.POSITIVE_INFINITY)) throw err;
      const delay = backoffDelay(attempt, b);
      opts.onRetry?.(err, attempt + 1, delay);
      await sleep(delay);
    }
  }
}
