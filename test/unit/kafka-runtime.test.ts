import { describe, expect, it } from 'vitest';
import { AssignerProtocol, type Cluster, type Logger } from 'kafkajs';
import { coPartitionedAssigner } from '../../src/adapters/kafka/assigner.js';
import { Mutex } from '../../src/adapters/kafka/mutex.js';
import { BUNDLE_SEAL_BYTES, decodeBundle, type Observation } from '../../src/adapters/kafka/repartition.js';
import { Outputs } from '../../src/adapters/kafka/stage.js';

function assignment(topics: Record<string, number>, members: string[]): Promise<Record<string, Record<string, number[]>>> {
  const cluster = { findTopicPartitionMetadata: (t: string) => Array.from({ length: topics[t]! }, (_, partitionId) => ({ partitionId })) } as unknown as Cluster;
  const assigner = coPartitionedAssigner({ cluster, groupId: 'g', logger: {} as Logger });
  return assigner
    .assign({ members: members.map((memberId) => ({ memberId, memberMetadata: Buffer.alloc(0) })), topics: Object.keys(topics) })
    .then((plan) => Object.fromEntries(plan.map((p) => [p.memberId, AssignerProtocol.MemberAssignment.decode(p.memberAssignment)!.assignment])));
}

describe('co-partitioned assigner', () => {
  it('gives partition N of every topic to the same member, spread evenly', async () => {
    const plan = await assignment({ strikes: 6, commands: 6 }, ['m-b', 'm-a', 'm-c']);
    expect(plan).toEqual({
      'm-a': { strikes: [0, 3], commands: [0, 3] },
      'm-b': { strikes: [1, 4], commands: [1, 4] },
      'm-c': { strikes: [2, 5], commands: [2, 5] },
    });
  });

  it('is the same plan whichever member computes it, and gives extra members nothing rather than splitting', async () => {
    expect(await assignment({ t: 2 }, ['x', 'y', 'z'])).toEqual(await assignment({ t: 2 }, ['z', 'y', 'x']));
    expect((await assignment({ t: 2 }, ['x', 'y', 'z'])).z).toEqual({});
  });
});

describe('output buffer', () => {
  it('groups outputs by topic, reports when full, and empties when taken', () => {
    const out = new Outputs({ messages: 3, bytes: 1_000 });
    out.push('a', { key: 'k', value: 'x' });
    out.push('b', { key: 'k', value: 'y' });
    expect(out.full).toBe(false);
    out.push('a', { key: 'k', value: 'z' });
    expect(out.full).toBe(true);
    expect(out.take()).toEqual([
      { topic: 'a', messages: [{ key: 'k', value: 'x' }, { key: 'k', value: 'z' }] },
      { topic: 'b', messages: [{ key: 'k', value: 'y' }] },
    ]);
    expect(out.full).toBe(false);
    expect(out.take()).toEqual([]);
    out.push('a', { key: 'k', value: 'v'.repeat(1_000) });
    expect(out.full).toBe(true);
  });

  it('is full once one topic holds a record batch worth of bytes, however far below the total bound', () => {
    const out = new Outputs({ messages: 1e6, bytes: 1e9 });
    // Dead letters of one account's junk share a key, so one partition and one record batch: 1 MiB at most.
    const letter = 'é'.repeat(8 * 1024);
    let sent = 0;
    while (!out.full) {
      out.push('dead-letter', { key: 'acc', value: letter });
      sent += Buffer.byteLength(letter);
    }
    expect(sent).toBeLessThan(1024 * 1024);
    expect(sent).toBeGreaterThan(512 * 1024);
  });
});

describe('output buffer bundles', () => {
  const observation = (key: string, offset: number, bytes = 20): Observation => ({ field: 'ip', key, partition: 1, offset: BigInt(offset), event: Buffer.alloc(bytes, 'e') });
  const keysOf = (value: Buffer | string | null) => {
    const decoded = decodeBundle(value as Buffer);
    return decoded.ok ? decoded.observations.map((o) => `${o.key}@${o.offset}`) : decoded.detail;
  };

  it('seals one message per partition, observations in the order added, beside the other outputs', () => {
    const out = new Outputs({ messages: 100, bytes: 1e6 });
    out.bundle('r', 2, observation('x', 10));
    out.push('s', { key: 'k', value: 'strike' });
    out.bundle('r', 0, observation('y', 11));
    out.bundle('r', 2, observation('z', 12));
    const sent = out.take();
    expect(sent.map((t) => t.topic)).toEqual(['s', 'r']);
    const bundles = sent.find((t) => t.topic === 'r')!.messages;
    expect(bundles.map((m) => [m.partition, m.key, keysOf(m.value)])).toEqual([
      [2, null, ['x@10', 'z@12']],
      [0, null, ['y@11']],
    ]);
    expect(out.take()).toEqual([]);
  });

  it('counts a bundle as one message and its observations as bytes, and is full once a bundle reaches the seal size', () => {
    const out = new Outputs({ messages: 2, bytes: 1e9 });
    out.bundle('r', 0, observation('x', 1));
    out.bundle('r', 0, observation('x', 2));
    expect(out.full).toBe(false);
    out.bundle('r', 1, observation('x', 3));
    expect(out.full).toBe(true);
    out.take();
    for (let i = 0; !out.full; i++) out.bundle('r', 0, observation('x', i, 10_000));
    expect(out.take()[0]!.messages[0]!.value!.length).toBeGreaterThanOrEqual(BUNDLE_SEAL_BYTES);
  });
});

describe('mutex', () => {
  it('runs sections one at a time in call order and carries on after a failure', async () => {
    const m = new Mutex();
    const log: string[] = [];
    const section = (name: string, ms: number, fail = false) =>
      m.run(async () => {
        log.push(`${name}+`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`${name}-`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([section('a', 20), section('b', 1, true), section('c', 1)]);
    expect(log).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
