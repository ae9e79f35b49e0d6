import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { readLines } from '../adapters/file/lines.js';
import { MAX_EVENT_BYTES } from '../contract/event.js';
import { parseEventLine, type BadEventReason, type TimedEvent } from '../contract/parse.js';

export type InputLine = { readonly ok: true; readonly value: TimedEvent } | { readonly ok: false; readonly reason: BadEventReason };

/**
 * NDJSON events as `fairuse run` reads them (same line limit, blank lines skipped, oversized lines set aside), in
 * batches, so tools built on it count exactly what the embedded run counts.
 */
export async function* readEvents(input: string | Readable): AsyncGenerator<InputLine[]> {
  const stream = typeof input === 'string' ? createReadStream(input) : input;
  for await (const batch of readLines(stream, MAX_EVENT_BYTES)) {
    const out: InputLine[] = [];
    for (const line of batch) {
      if (line.text.trim() === '') continue;
      if (line.truncated) out.push({ ok: false, reason: 'oversized' });
      else {
        const parsed = parseEventLine(line.text);
        out.push(parsed.ok ? { ok: true, value: parsed.value } : { ok: false, reason: parsed.reason });
      }
    }
    yield out;
  }
}
