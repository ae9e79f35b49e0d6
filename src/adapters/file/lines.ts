import type { Readable } from 'node:stream';

export interface Line {
  readonly text: string;
  /** The line was longer than the limit: `text` holds only its beginning. */
  readonly truncated: boolean;
  /** 1-based line number in the input. */
  readonly number: number;
}

/**
 * Splits a byte stream into UTF-8 lines (LF or CRLF) without holding more than `maxBytes` of any one line: a hostile
 * gigabyte line costs bounded memory and comes out truncated, to be set aside as oversized. Yields a batch per chunk.
 */
export async function* readLines(input: Readable, maxBytes: number): AsyncGenerator<Line[]> {
  let parts: Buffer[] = [];
  let bytes = 0;
  let inLine = false;
  let truncated = false;
  let number = 0;

  // One byte beyond the limit is kept so a CRLF line of exactly maxBytes is not mistaken for an oversized one.
  const limit = maxBytes + 1;
  const keep = (piece: Buffer): void => {
    inLine = true;
    const room = limit - bytes;
    if (piece.length > room) truncated = true;
    const kept = piece.length > room ? piece.subarray(0, room) : piece;
    if (kept.length > 0) {
      parts.push(Buffer.from(kept)); // copied: the stream may reuse the chunk's memory
      bytes += kept.length;
    }
  };
  const take = (): Line => {
    let buf = Buffer.concat(parts);
    if (buf.length > 0 && buf[buf.length - 1] === 13) buf = buf.subarray(0, -1);
    if (buf.length > maxBytes) {
      truncated = true;
      buf = buf.subarray(0, maxBytes);
    }
    const line = { text: buf.toString('utf8'), truncated, number };
    parts = [];
    bytes = 0;
    inLine = false;
    truncated = false;
    return line;
  };

  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const batch: Line[] = [];
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      const piece = buf.subarray(start, nl);
      start = nl + 1;
      number++;
      if (!inLine && (piece.length <= maxBytes || (piece.length === limit && piece[maxBytes] === 13))) {
        batch.push({ text: stripCr(piece.toString('utf8')), truncated: false, number });
      } else {
        keep(piece);
        batch.push(take());
      }
    }
    if (start < buf.length) keep(buf.subarray(start));
    if (batch.length > 0) yield batch;
  }
  if (inLine) {
    number++;
    yield [take()];
  }
}

function stripCr(text: string): string {
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}
