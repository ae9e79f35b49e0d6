import { describe, expect, it } from 'vitest';
import { AssignerProtocol, type Cluster, type Logger, type Producer } from 'kafkajs';
import { coPartitionedAssigner } from '../../src/adapters/kafka/assigner.js';
import { Mutex } from '../../src/adapters/kafka/mutex.js';
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
  it('groups outputs by topic, reports when full, and empties on flush', async () => {
    const sent: unknown[] = [];
    const producer = { sendBatch: async (b: unknown) => void sent.push(b) } as unknown as Producer;
    const out = new Outputs({ messages: 3, bytes: 1_000 });
    out.push('a', { key: 'k', value: 'x' });
    out.push('b', { key: 'k', value: 'y' });
    expect(out.full).toBe(false);
    out.push('a', { key: 'k', value: 'z' });
    expect(out.full).toBe(true);
    await out.flush(producer);
    expect(sent).toEqual([{ acks: -1, topicMessages: [{ topic: 'a', messages: [{ key: 'k', value: 'x' }, { key: 'k', value: 'z' }] }, { topic: 'b', messages: [{ key: 'k', value: 'y' }] }] }]);
    expect(out.full).toBe(false);
    await out.flush(producer);
    expect(sent).toHaveLength(1);
    out.push('a', { key: 'k', value: 'v'.repeat(1_000) });
    expect(out.full).toBe(true);
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
