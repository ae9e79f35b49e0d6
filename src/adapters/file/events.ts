import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { MAX_EVENT_BYTES } from '../../contract/event.js';
import { parseEventLine, type BadEventReason, type TimedEvent } from '../../contract/parse.js';
import { readLines } from './lines.js';

export type InputLine =
  | { readonly ok: true; readonly value: TimedEvent; readonly raw: string; readonly number: number }
  | { readonly ok: false; readonly reason: BadEventReason; readonly detail: string; readonly raw: string; readonly number: number };

/**
 * NDJSON events in batches, read the one way every tool reads them (`fairuse run`, backtest, explain): the event
 * size limit, blank lines skipped, bad lines reported with
 * their reason; every line keeps its number and raw text (a late event is set aside as it arrived).
 */
export async function* readEvents(input: string | Readable): AsyncGenerator<InputLine[]> {
  const stream = typeof input === 'string' ? createReadStream(input) : input;
  for await (const batch of readLines(stream, MAX_EVENT_BYTES)) {
    const out: InputLine[] = [];
    for (const line of batch) {
      if (line.text.trim() === '') continue;
      const { number } = line;
      if (line.truncated) {
        out.push({ ok: false, reason: 'oversized', detail: `exceeds ${MAX_EVENT_BYTES} bytes (kept its first bytes)`, raw: line.text, number });
        continue;
      }
      const parsed = parseEventLine(line.text);
      out.push(parsed.ok ? { ok: true, value: parsed.value, raw: line.text, number } : { ok: false, reason: parsed.reason, detail: parsed.detail, raw: line.text, number });
    }
    yield out;
  }
}
