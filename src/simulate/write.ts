import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SimulationOptions } from './options.js';
import { simulate } from './simulate.js';

export interface SimulationFiles {
  readonly events: number;
  readonly accounts: number;
  /** `<out>/events.ndjson` */
  readonly path: string;
  /** `<out>/labels.ndjson` */
  readonly labelsPath: string;
}

const CHUNK_CHARS = 64 * 1024;

/** NDJSON in ~64 KiB chunks: a stream write per line would cost more than the JSON itself. */
function* ndjson(records: Iterable<unknown>): Generator<string> {
  let chunk = '';
  for (const record of records) {
    chunk += `${JSON.stringify(record)}\n`;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/**
 * Writes a simulation to `out` (created if missing) as `events.ndjson` and `labels.ndjson`. Events are
 * generated as the file stream asks for them (pipeline backpressure), so memory stays flat at any size.
 */
export async function writeSimulation(options: SimulationOptions & { out: string }): Promise<SimulationFiles> {
  const { out, ...simulation } = options;
  const { events, labels } = simulate(simulation);
  await mkdir(out, { recursive: true });
  const path = join(out, 'events.ndjson');
  const labelsPath = join(out, 'labels.ndjson');
  let written = 0;
  const counted = function* () {
    for (const event of events) {
      written++;
      yield event;
    }
  };
  await pipeline(Readable.from(ndjson(counted())), createWriteStream(path));
  await pipeline(Readable.from(ndjson(labels)), createWriteStream(labelsPath));
  return { events: written, accounts: labels.length, path, labelsPath };
}
