import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { MAX_EVENT_BYTES } from '../../contract/event.js';

/**
 * The repartition topic carries bundles: detect sends one message per target partition per flush, holding every
 * observation bound for that partition, because the producer's cost is per message and an event has one observation
 * per shared field. A bundle is text framed by byte lengths, so any event bytes and key survive it:
 *
 *   fairuse-repartition/1 <count>\n
 *   <field>@<source partition>:<source offset> <key bytes> <event bytes>\n<key><event>\n      (count times)
 *
 * Numbers are decimal without leading zeros; the `<field>@<partition>:<offset>` origin is where detect read the event,
 * which fanout uses to drop replays.
 */
export const BUNDLE_VERSION = 1;
const MAGIC = 'fairuse-repartition/';

/** One accepted event on its way to the fanout partition of one of its shared field values. */
export interface Observation {
  /** The shared field (deviceId, ip…) whose value routes it. */
  field: string;
  /** That field's value. */
  key: string;
  /** Events partition and offset detect read it at: grows per field and source partition, so replays are recognised. */
  partition: number;
  offset: bigint;
  /** The event as detect read it. */
  event: Buffer;
}

/**
 * A bundle is sealed once it reaches this size, which keeps every record batch on the repartition topic below the
 * broker's default 1 MiB `message.max.bytes`: one more observation adds at most two events' worth.
 */
export const BUNDLE_SEAL_BYTES = 512 * 1024;
/** Largest bundle fanout reads: a sealed bundle plus its last observation stays below it. */
export const MAX_BUNDLE_BYTES = 1024 * 1024;
const MAX_COUNT_DIGITS = 7;
/** `<field>@<partition>:<offset> <key bytes> <event bytes>`: a 64-letter field and the longest numbers fit. */
const MAX_LINE_BYTES = 128;
const NEWLINE = 0x0a;
const HEADER_LINE = /^fairuse-repartition\/(0|[1-9]\d{0,5}) ([1-9]\d{0,6})$/;
const OBSERVATION_LINE = /^([A-Za-z]{1,64})@(0|[1-9]\d{0,5}):(0|[1-9]\d{0,18}) (0|[1-9]\d{0,7}) ([1-9]\d{0,7})$/;
const NEWLINE_BYTES = Buffer.from('\n');

/** Observations bound for one partition, in the order added, until sealed into one message body. */
export class BundleWriter {
  private readonly parts: Buffer[] = [];
  private count = 0;
  /** Bytes of the observations so far (the header line comes on top). */
  bytes = 0;

  add(o: Observation): void {
    const head = Buffer.from(`${o.field}@${o.partition}:${o.offset} ${Buffer.byteLength(o.key)} ${o.event.length}\n${o.key}`);
    this.parts.push(head, o.event, NEWLINE_BYTES);
    this.bytes += head.length + o.event.length + 1;
    this.count++;
  }

  seal(): Buffer {
    const header = Buffer.from(`${MAGIC}${BUNDLE_VERSION} ${this.count}\n`);
    return Buffer.concat([header, ...this.parts], header.length + this.bytes);
  }
}

export type DecodedBundle = { ok: true; observations: Observation[] } | { ok: false; reason: 'oversized' | 'schema'; detail: string };

const malformed = (detail: string): DecodedBundle => ({ ok: false, reason: 'schema', detail: `malformed repartition bundle: ${detail}` });

/** The next line from `at`, without its newline, if one ends within `max` bytes. */
function lineAt(value: Buffer, at: number, max: number): { text: string; next: number } | undefined {
  const end = value.subarray(at, at + max + 1).indexOf(NEWLINE);
  return end < 0 ? undefined : { text: value.toString('latin1', at, at + end), next: at + end + 1 };
}

/**
 * The observations of a bundle, or why it is not one. A bundle is taken whole or not at all: anything that does not
 * match the format to the last byte (truncated, wrong count, trailing bytes, oversized) is refused with the reason.
 */
export function decodeBundle(value: Buffer | null): DecodedBundle {
  if (value === null) return malformed('empty message (null value)');
  if (value.length > MAX_BUNDLE_BYTES) return { ok: false, reason: 'oversized', detail: `repartition bundle of ${value.length} bytes exceeds ${MAX_BUNDLE_BYTES}` };
  const first = lineAt(value, 0, MAGIC.length + 6 + 1 + MAX_COUNT_DIGITS);
  const header = first && HEADER_LINE.exec(first.text);
  if (!first || !header) return malformed(`expected "${MAGIC}${BUNDLE_VERSION} <count>" on the first line`);
  if (Number(header[1]) !== BUNDLE_VERSION) return malformed(`version ${header[1]}, this fanout reads version ${BUNDLE_VERSION}`);
  const count = Number(header[2]);
  const observations: Observation[] = [];
  let at = first.next;
  for (let i = 1; i <= count; i++) {
    if (at === value.length) return malformed(`declares ${count} observations but holds ${i - 1}`);
    const line = lineAt(value, at, MAX_LINE_BYTES);
    const m = line && OBSERVATION_LINE.exec(line.text);
    if (!line || !m) return malformed(`observation ${i} of ${count}: expected "<field>@<partition>:<offset> <key bytes> <event bytes>"`);
    const keyBytes = Number(m[4]);
    const eventBytes = Number(m[5]);
    if (eventBytes > MAX_EVENT_BYTES || keyBytes > MAX_EVENT_BYTES) return malformed(`observation ${i} of ${count}: longer than an event may be (${MAX_EVENT_BYTES} bytes)`);
    const end = line.next + keyBytes + eventBytes;
    if (end + 1 > value.length) return malformed(`observation ${i} of ${count}: truncated, ${end + 1 - value.length} bytes missing`);
    if (value[end] !== NEWLINE) return malformed(`observation ${i} of ${count}: no newline after its ${eventBytes} event bytes`);
    observations.push({
      field: m[1]!,
      partition: Number(m[2]),
      offset: BigInt(m[3]!),
      key: value.toString('utf8', line.next, line.next + keyBytes),
      event: value.subarray(line.next + keyBytes, end),
    });
    at = end + 1;
  }
  if (at !== value.length) return malformed(`${value.length - at} bytes after the ${count} observations it declares`);
  return { ok: true, observations };
}

/** kafkajs' default partitioner (Kafka's Java murmur2), and partition lists per topic size for it to read. */
const kafkaPartitioner = Partitioners.DefaultPartitioner();
const partitionLists = new Map<number, PartitionMetadata[]>();

/**
 * The partition kafkajs gives a message keyed `key` on a topic of `partitions`: detect routes observations itself,
 * exactly as keyed messages would be, so a key's observations still meet on one partition.
 */
export function partitionFor(key: string, partitions: number): number {
  let partitionMetadata = partitionLists.get(partitions);
  if (!partitionMetadata) {
    partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0] }));
    partitionLists.set(partitions, partitionMetadata);
  }
  return kafkaPartitioner({ topic: 'repartition', partitionMetadata, message: { key, value: null } });
}
