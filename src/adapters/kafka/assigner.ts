import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * Assigns partition N of every subscribed topic to the same member, as Kafka Streams does for co-partitioned inputs:
 * the enforce stage must see an account's strikes and its support commands in one task. Partition numbers are
 * spread round-robin over the members sorted by id, so every member computes the same plan.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'FairuseCoPartitioned',
  version: 1,
  async assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort();
    const plan = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const member = plan.get(ids[partitionId % ids.length]!)!;
        (member[topic] ??= []).push(partitionId);
      }
    }
    return ids.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: plan.get(memberId)!, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: 'FairuseCoPartitioned', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
  },
});
