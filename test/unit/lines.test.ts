import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readLines, type Line } from '../../src/adapters/file/lines.js';

/** A stream that delivers `bytes` cut at the given offsets (each a separate chunk). */
function chunked(bytes: Buffer, cuts: readonly number[] = []): Readable {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    if (p > start) chunks.push(bytes.subarray(start, p));
    start = Math.max(start, p);
  }
  return Readable.from(chunks);
}

async function collect(input: Readable, maxBytes: number): Promise<{ lines: Line[]; batches: number }> {
  const lines: Line[] = [];
  let batches = 0;
  for await (const batch of readLines(input, maxBytes)) {
    expect(batch.length).toBeGreaterThan(0);
    batches++;
    lines.push(...batch);
  }
  return { lines, batches };
}

const texts = async (text: string, cuts: number[] = [], maxBytes = 1 << 20): Promise<string[]> =>
  (await collect(chunked(Buffer.from(text, 'utf8'), cuts), maxBytes)).lines.map((l) => l.text);

/** What `text.split('\n')` gives, minus the empty piece after a final newline. */
function expectedLines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

describe('readLines', () => {
  it('splits lines, with and without a final newline', async () => {
    expect(await texts('a\nbb\nccc\n')).toEqual(['a', 'bb', 'ccc']);
    expect(await texts('a\nbb\nccc')).toEqual(['a', 'bb', 'ccc']);
    expect(await texts('')).toEqual([]);
    expect(await texts('\n')).toEqual(['']);
    expect(await texts('\n\nx\n\n')).toEqual(['', '', 'x', '']);
    expect(await texts('only')).toEqual(['only']);
  });

  it('splits lines across chunk boundaries', async () => {
    expect(await texts('hello\nworld\n', [2, 5, 6, 7])).toEqual(['hello', 'world']);
    expect(await texts('ab\ncd', [1, 2, 3, 4])).toEqual(['ab', 'cd']);
  });

  it('strips CR of CRLF, also when CR and LF fall in different chunks', async () => {
    expect(await texts('a\r\nb\r\n')).toEqual(['a', 'b']);
    expect(await texts('a\r\nb\r\n', [2])).toEqual(['a', 'b']);
    expect(await texts('a\r\nb\r\n', [1, 2, 3, 4, 5])).toEqual(['a', 'b']);
    expect(await texts('a\r\nb')).toEqual(['a', 'b']);
    // Only a CR right before LF is a line ending.
    expect(await texts('a\rb\n')).toEqual(['a\rb']);
  });

  it('keeps the last line when it has no newline', async () => {
    const { lines } = await collect(chunked(Buffer.from('one\ntwo\nthree'), [5]), 100);
    expect(lines).toEqual([
      { text: 'one', truncated: false, number: 1 },
      { text: 'two', truncated: false, number: 2 },
      { text: 'three', truncated: false, number: 3 },
    ]);
  });

  it('numbers lines from 1, counting empty and truncated lines', async () => {
    const text = `first\n\n${'x'.repeat(50)}\r\nfourth\n\nsixth`;
    const { lines } = await collect(chunked(Buffer.from(text), [3, 9, 20, 40, 55]), 10);
    expect(lines.map((l) => l.number)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lines.map((l) => l.truncated)).toEqual([false, false, true, false, false, false]);
    expect(lines.map((l) => l.text)).toEqual(['first', '', 'x'.repeat(10), 'fourth', '', 'sixth']);
  });

  it('truncates a line longer than maxBytes to its first maxBytes bytes, and the next line is intact', async () => {
    const long = Array.from({ length: 1000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    for (const cuts of [[], [1, 7, 300, 999, 1000], Array.from({ length: 1010 }, (_, i) => i)]) {
      const { lines } = await collect(chunked(Buffer.from(`${long}\nnext line\n`), cuts), 16);
      expect(lines).toEqual([
        { text: long.slice(0, 16), truncated: true, number: 1 },
        { text: 'next line', truncated: false, number: 2 },
      ]);
    }
  });

  it('truncates a final unterminated over-long line', async () => {
    const { lines } = await collect(chunked(Buffer.from(`ok\n${'y'.repeat(100)}`), [10, 50]), 8);
    expect(lines).toEqual([
      { text: 'ok', truncated: false, number: 1 },
      { text: 'yyyyyyyy', truncated: true, number: 2 },
    ]);
  });

  it('a line of exactly maxBytes is not truncated, with LF or CRLF', async () => {
    const exact = 'z'.repeat(8);
    for (const cuts of [[], [4], [8], [9]]) {
      expect((await collect(chunked(Buffer.from(`${exact}\nnext\n`), cuts), 8)).lines[0], `LF ${cuts}`).toEqual({ text: exact, truncated: false, number: 1 });
      expect((await collect(chunked(Buffer.from(`${exact}\r\nnext\r\n`), cuts), 8)).lines[0], `CRLF ${cuts}`).toEqual({ text: exact, truncated: false, number: 1 });
    }
  });

  it('holds at most maxBytes of a huge line (bounded memory)', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const huge = new Readable({
      read() {
        if (sent < 32 * 1024 * 1024) {
          sent += chunk.length;
          this.push(chunk);
        } else {
          this.push(Buffer.from('\ntail\n'));
          this.push(null);
        }
      },
    });
    const { lines } = await collect(huge, 1024);
    expect(lines).toHaveLength(2);
    expect(lines[0]!.truncated).toBe(true);
    expect(Buffer.byteLength(lines[0]!.text)).toBe(1024);
    expect(lines[1]).toEqual({ text: 'tail', truncated: false, number: 2 });
  });

  it('preserves multi-byte UTF-8 split across chunks', async () => {
    const text = 'héllo wörld\n日本語テキスト\n🎨🖌️ emoji\nnaïve café\n';
    const bytes = Buffer.from(text, 'utf8');
    // Cut at every byte: every multi-byte sequence is split.
    const every = Array.from({ length: bytes.length }, (_, i) => i);
    expect(await texts(text, every)).toEqual(['héllo wörld', '日本語テキスト', '🎨🖌️ emoji', 'naïve café']);
    // Cut inside the 4-byte emoji at each position.
    const at = bytes.indexOf(Buffer.from('🎨'));
    for (let k = 1; k < 4; k++) expect(await texts(text, [at + k])).toEqual(['héllo wörld', '日本語テキスト', '🎨🖌️ emoji', 'naïve café']);
  });

  it('accepts string chunks as well as buffers', async () => {
    const { lines } = await collect(Readable.from(['ab', 'c\nd', 'é\n']), 100);
    expect(lines.map((l) => l.text)).toEqual(['abc', 'dé']);
  });

  it('yields one batch per chunk that completes lines', async () => {
    const { batches, lines } = await collect(chunked(Buffer.from('a\nb\nc\nd'), [4]), 100);
    expect(lines.map((l) => l.text)).toEqual(['a', 'b', 'c', 'd']);
    expect(batches).toBe(3); // [a, b], [c], final [d]
  });

  it('property: any chunking yields the same lines as text.split("\\n") minus the trailing empty one', async () => {
    const lineText = fc.string({ unit: 'binary', maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, ''));
    const arbText = fc.tuple(fc.array(lineText, { maxLength: 12 }), fc.boolean()).map(([ls, finalNl]) => ls.join('\n') + (finalNl && ls.length > 0 ? '\n' : ''));
    await fc.assert(
      fc.asyncProperty(arbText, fc.array(fc.nat({ max: 400 }), { maxLength: 30 }), fc.boolean(), async (text, cuts, crlf) => {
        const input = crlf ? text.replace(/\n/g, '\r\n') : text;
        const bytes = Buffer.from(input, 'utf8');
        const { lines } = await collect(chunked(bytes, cuts.map((c) => c % (bytes.length + 1))), 1 << 16);
        const expected = expectedLines(text);
        expect(lines.map((l) => l.text)).toEqual(expected);
        expect(lines.map((l) => l.number)).toEqual(expected.map((_, i) => i + 1));
        expect(lines.every((l) => !l.truncated)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('property: with a small maxBytes, every line is its first maxBytes bytes, flagged iff it was longer', async () => {
    const ascii = fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));
    await fc.assert(
      fc.asyncProperty(fc.array(ascii, { minLength: 1, maxLength: 10 }), fc.array(fc.nat({ max: 500 }), { maxLength: 20 }), fc.integer({ min: 1, max: 30 }), async (ls, cuts, maxBytes) => {
        const bytes = Buffer.from(`${ls.join('\n')}\n`);
        const { lines } = await collect(chunked(bytes, cuts), maxBytes);
        expect(lines).toEqual(ls.map((l, i) => ({ text: l.slice(0, maxBytes), truncated: l.length > maxBytes, number: i + 1 })));
      }),
      { numRuns: 300 },
    );
  });
});
