import { GenerationEventSchema, MAX_EVENT_BYTES, type GenerationEvent } from './event.js';
import { fastAccept } from './fast-path.js';
import { parseInstant } from '../time/instant.js';

/** A validated event plus its event time in epoch milliseconds. */
export interface TimedEvent {
  readonly event: GenerationEvent;
  readonly ts: number;
}

export type BadEventReason = 'oversized' | 'not-json' | 'schema';

export type ParseResult =
  | { ok: true; value: TimedEvent }
  | { ok: false; reason: BadEventReason; detail: string };

/** Validates one NDJSON line / message body against the event contract. Never throws. */
export function parseEventLine(line: string): ParseResult {
  // string length is UTF-16 units; ×3 bounds UTF-8 bytes without encoding every line.
  if (line.length * 3 > MAX_EVENT_BYTES && Buffer.byteLength(line) > MAX_EVENT_BYTES) {
    return { ok: false, reason: 'oversized', detail: `line exceeds ${MAX_EVENT_BYTES} bytes` };
  }
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    return { ok: false, reason: 'not-json', detail: (err as Error).message };
  }
  return validateEvent(json);
}

export function validateEvent(json: unknown): ParseResult {
  const fast = fastAccept(json);
  if (fast) return { ok: true, value: { event: fast, ts: parseInstant(fast.occurredAt) } };
  const parsed = GenerationEventSchema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    return { ok: false, reason: 'schema', detail };
  }
  return { ok: true, value: { event: parsed.data, ts: parseInstant(parsed.data.occurredAt) } };
}
