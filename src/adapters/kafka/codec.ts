import type { IHeaders, Message } from 'kafkajs';
import type { z } from 'zod';
import { MAX_EVENT_BYTES, MAX_ID_LENGTH } from '../../contract/event.js';
import type { DeadLetter } from '../../contract/outputs.js';
import { parseEventLine, type ParseResult } from '../../contract/parse.js';

/** Header names this pipeline writes. */
export const HEADER = {
  /** The record's deterministic id (strikeId, transitionId…), so consumers can dedupe without parsing. */
  id: 'fairuse-id',
  reason: 'fairuse-dead-letter-reason',
  detail: 'fairuse-dead-letter-detail',
  source: 'fairuse-source',
} as const;

/** Header details are for humans scanning a topic; the body keeps the full text. */
const MAX_HEADER_DETAIL = 512;

export function header(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

/** Where a message was read: dead letters quote it, and it identifies a dead letter across replays. */
export function sourceOf(topic: string, partition: number, offset: string): string {
  return `${topic}/${partition}@${offset}`;
}

/** A message body as an event: bytes are checked before decoding so an oversized message is never parsed. */
export function decodeEvent(value: Buffer | null): ParseResult {
  if (value === null) return { ok: false, reason: 'not-json', detail: 'empty message (null value)' };
  if (value.length > MAX_EVENT_BYTES) return { ok: false, reason: 'oversized', detail: `message of ${value.length} bytes exceeds ${MAX_EVENT_BYTES}` };
  return parseEventLine(value.toString('utf8'));
}

/** The body quoted in a dead letter: at most MAX_EVENT_BYTES of it, as the embedded run keeps of a long line. */
export function rawText(value: Buffer | null): string {
  if (value === null) return '';
  return (value.length > MAX_EVENT_BYTES ? value.subarray(0, MAX_EVENT_BYTES) : value).toString('utf8');
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: 'not-json' | 'schema'; detail: string };

/** A JSON record validated against an output schema (strikes and commands read by the enforce stage). */
export function decodeRecord<S extends z.ZodType>(value: Buffer | null, schema: S): Decoded<z.output<S>> {
  if (value === null) return { ok: false, reason: 'not-json', detail: 'empty message (null value)' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'not-json', detail: (err as Error).message };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  // The first issues only, as the event contract reports them: a hostile record can have thousands.
  const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return { ok: false, reason: 'schema', detail: issues.join('; ') };
}

export function recordMessage(key: string, id: string, record: unknown): Message {
  return { key, value: JSON.stringify(record), headers: { [HEADER.id]: id } };
}

export function deadLetterMessage(key: Buffer | string | null, letter: DeadLetter): Message {
  return {
    key,
    value: JSON.stringify(letter),
    headers: {
      [HEADER.reason]: letter.reason,
      [HEADER.detail]: letter.detail.length > MAX_HEADER_DETAIL ? `${letter.detail.slice(0, MAX_HEADER_DETAIL)}…` : letter.detail,
      ...(letter.source ? { [HEADER.source]: letter.source } : {}),
    },
  };
}

/** The accountId of an NDJSON line, to key it as the contract says; undefined when the line is not such JSON. */
export function accountKeyOf(line: string): string | undefined {
  try {
    const json: unknown = JSON.parse(line);
    if (typeof json !== 'object' || json === null) return undefined;
    const id = (json as { accountId?: unknown }).accountId;
    return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH ? id : undefined;
  } catch {
    return undefined;
  }
}
