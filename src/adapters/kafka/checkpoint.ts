import { randomUUID } from 'node:crypto';
import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { header } from './codec.js';
import { readToEnd } from './reader.js';
import { CHECKPOINT_MAX_MESSAGE_BYTES } from './topics.js';

/** A partition's engine state and the next offset of each input topic that the state does not yet include. */
export interface Checkpoint {
  offsets: Record<string, string>;
  snapshot: unknown;
  /** Wall-clock time it was taken (ms). */
  takenAt: number;
}

/** Points at the chunks of the current checkpoint of a key. */
interface Manifest {
  id: string;
  slot: 0 | 1;
  chunks: number;
  bytes: number;
}

const CHUNK_ID = 'fairuse-checkpoint';

/** A checkpoint as the store writes it: JSON. */
export function encodeCheckpoint(cp: Checkpoint): Buffer {
  return Buffer.from(JSON.stringify(cp));
}

/**
 * Checkpoints in a compacted topic. A snapshot is JSON split into chunks written under `<key>#<slot>#<i>`, then a
 * manifest under `<key>` naming the slot. Writes alternate between two slots, so a crash half-way through writing
 * chunks never damages the checkpoint the manifest still points to, and compaction keeps at most two copies.
 */
export class CheckpointStore {
  private readonly slots = new Map<string, 0 | 1>();

  constructor(
    private readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly chunkBytes: number,
  ) {}

  /** Writes an encoded checkpoint (`encodeCheckpoint`) as the latest of `key`. */
  async write(key: string, body: Buffer): Promise<void> {
    const slot: 0 | 1 = this.slots.get(key) === 0 ? 1 : 0;
    const id = randomUUID();
    const chunks: Message[] = [];
    for (let i = 0, at = 0; at < body.length || i === 0; i++, at += this.chunkBytes) {
      chunks.push({ key: `${key}#${slot}#${i}`, value: body.subarray(at, at + this.chunkBytes), headers: { [CHUNK_ID]: id } });
    }
    // One produce request must stay under the topic's max.message.bytes even if the chunks do not compress.
    const perRequest = Math.max(1, Math.floor(CHECKPOINT_MAX_MESSAGE_BYTES / 2 / this.chunkBytes));
    for (let i = 0; i < chunks.length; i += perRequest) {
      await this.producer.send({ topic: this.topic, acks: -1, compression: CompressionTypes.GZIP, messages: chunks.slice(i, i + perRequest) });
    }
    const manifest: Manifest = { id, slot, chunks: chunks.length, bytes: body.length };
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key, value: JSON.stringify(manifest) }] });
    this.slots.set(key, slot);
  }

  /** The latest checkpoint of each key that has one. */
  async load(keys: readonly string[]): Promise<Map<string, Checkpoint>> {
    const wanted = new Set(keys);
    const manifests = new Map<string, Manifest>();
    const chunks = new Map<string, { id: string; value: Buffer }>();
    await readToEnd(
      this.kafka,
      this.topic,
      (m) => {
        const k = m.key?.toString();
        if (k === undefined || m.value === null) return;
        const hash = k.indexOf('#');
        if (!wanted.has(hash < 0 ? k : k.slice(0, hash))) return;
        if (hash < 0) {
          const manifest = parseManifest(m.value);
          if (manifest) manifests.set(k, manifest);
        } else {
          chunks.set(k, { id: header(m.headers, CHUNK_ID) ?? '', value: m.value });
        }
      },
      { maxBytesPerPartition: CHECKPOINT_MAX_MESSAGE_BYTES * 2, maxBytes: CHECKPOINT_MAX_MESSAGE_BYTES * 4 },
    );
    const out = new Map<string, Checkpoint>();
    for (const [key, manifest] of manifests) {
      const parts: Buffer[] = [];
      for (let i = 0; i < manifest.chunks; i++) {
        const chunk = chunks.get(`${key}#${manifest.slot}#${i}`);
        if (!chunk || chunk.id !== manifest.id) throw new Error(`checkpoint ${key} is incomplete: chunk ${i} of ${manifest.chunks} is missing`);
        parts.push(chunk.value);
      }
      out.set(key, JSON.parse(Buffer.concat(parts).toString('utf8')) as Checkpoint);
      this.slots.set(key, manifest.slot);
    }
    return out;
  }
}

function parseManifest(value: Buffer): Manifest | undefined {
  try {
    const m = JSON.parse(value.toString('utf8')) as Partial<Manifest>;
    if (typeof m.id === 'string' && (m.slot === 0 || m.slot === 1) && Number.isInteger(m.chunks) && m.chunks! > 0) return m as Manifest;
  } catch {
    // not a manifest: ignored, the previous one stands
  }
  return undefined;
}
