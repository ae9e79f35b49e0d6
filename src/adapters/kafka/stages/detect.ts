import type { KafkaMessage } from 'kafkajs';
import { Detection, type DetectionSnapshot } from '../../../engine/detection.js';
import type { Policy } from '../../../policy/schema.js';
import { readField } from '../../../rules/match.js';
import type { RuleSet } from '../../../rules/ruleset.js';
import type { EventField } from '../../../rules/schema.js';
import { decodeEvent, rawText, sourceOf } from '../codec.js';
import type { PipelineMetrics } from '../metrics.js';
import { partitionFor } from '../repartition.js';
import type { Stage, StageTask } from '../stage.js';
import type { Topics } from '../topics.js';
import { Emitter } from './emit.js';
import { fieldsChanged, sharedFields } from './shared-rules.js';

/**
 * Per-account detection on the events topic (key accountId): strikes, speed decisions and dead letters, and every
 * accepted event observed once per shared field on the repartition topic, in the bundle for the partition of that
 * field's value. `repartitionPartitions` is the topic's partition count when the worker started.
 */
export function detectStage(topics: Topics, rules: RuleSet, policy: Policy, alignWithin: number, metrics: PipelineMetrics, repartitionPartitions: number): Stage {
  const fields = sharedFields(rules);
  let current = rules;
  return {
    name: 'detect',
    inputs: [topics.events],
    // Fanout accepts events up to allowedSkew behind; aligning within half of it leaves room for batch overshoot.
    alignWithin,
    newTask: (_partition, out) => new DetectTask(new Detection(current, policy, 'account'), policy.time.allowedLateness, fields, repartitionPartitions, new Emitter('detect', topics, out, metrics)),
    replaceRules: (next) => {
      const refused = fieldsChanged(fields, next);
      if (refused === undefined) current = next;
      return refused;
    },
  };
}

class DetectTask implements StageTask {
  private readonly decisions;

  constructor(
    private readonly detection: Detection,
    private readonly lateness: number,
    private readonly fields: readonly EventField[],
    private readonly repartitionPartitions: number,
    private readonly emit: Emitter,
  ) {
    this.decisions = { strike: emit.strike, speed: emit.speed };
  }

  replaceRules(rules: RuleSet): void {
    this.detection.replaceRules(rules);
  }

  handle(topic: string, partition: number, m: KafkaMessage, limit: number): number | undefined {
    const parsed = decodeEvent(m.value);
    if (!parsed.ok) {
      this.emit.deadLetter(m.key, { reason: parsed.reason, detail: parsed.detail, raw: rawText(m.value), source: sourceOf(topic, partition, m.offset) });
      return undefined;
    }
    const at = Math.max(this.detection.watermark, parsed.value.ts - this.lateness);
    if (at > limit) return at;
    const admission = this.detection.ingest(parsed.value, this.decisions);
    if (admission === 'late') {
      this.emit.deadLetter(m.key, {
        reason: 'late',
        detail: 'occurredAt is behind the watermark by more than the allowed lateness',
        raw: rawText(m.value),
        source: sourceOf(topic, partition, m.offset),
      });
      return undefined;
    }
    this.emit.count(admission);
    if (admission !== 'accepted') return undefined;
    const { event, ts } = parsed.value;
    const offset = BigInt(m.offset);
    for (const field of this.fields) {
      const value = readField(event, ts, field);
      if (value === undefined || value === '') continue;
      const key = String(value);
      this.emit.repartition(partitionFor(key, this.repartitionPartitions), { field, key, partition, offset, event: m.value! });
    }
    return undefined;
  }

  /** The watermark trails the newest event by a constant, so it compares partitions as well as the newest would. */
  eventTime(): number {
    return this.detection.watermark;
  }

  snapshot(): unknown {
    return this.detection.snapshot();
  }

  restore(snapshot: unknown): void {
    this.detection.restore(snapshot as DetectionSnapshot);
  }

  stateSize(): Record<string, number> {
    const s = this.detection.stateSize;
    return { accounts: s.accounts, eventIds: s.dedupe, ...prefixed('keys:', s.keys) };
  }
}

export function prefixed(prefix: string, counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, n]) => [`${prefix}${k}`, n]));
}
