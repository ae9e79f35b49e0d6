import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/** Appends records as NDJSON, buffering in memory up to a bound and honouring the file stream's backpressure. */
export class NdjsonWriter {
  private readonly stream: WriteStream;
  private buffer: string[] = [];
  private bufferedChars = 0;
  count = 0;

  constructor(
    readonly path: string,
    private readonly highWater = 256 * 1024,
  ) {
    this.stream = createWriteStream(path, { flags: 'w' });
  }

  /** Synchronous so the engine's callbacks can call it; the caller awaits `flushIfFull` between batches. */
  write(record: unknown): void {
    const line = JSON.stringify(record);
    this.buffer.push(line);
    this.bufferedChars += line.length + 1;
    this.count++;
  }

  get full(): boolean {
    return this.bufferedChars >= this.highWater;
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('\n') + '\n';
    this.buffer = [];
    this.bufferedChars = 0;
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}
