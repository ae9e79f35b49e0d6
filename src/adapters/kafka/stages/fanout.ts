import type { KafkaMessage } from 'kafkajs';
import { Detection, type DetectionSnapshot } from '../../../engine/detection.js';
import type { Policy } from '../../../policy/schema.js';
import type { RuleSet } from '../../../rules/ruleset.js';
import type { EventField } from '../../../rules/schema.js';
import { decodeEvent, rawText, sourceOf } from '../codec.js';
import type { PipelineMetrics } from '../metrics.js';
import { decodeBundle, type Observation } from '../repartition.js';
import type { Outputs, Stage, StageTask } from '../stage.js';
import type { Topics } from '../topics.js';
import { prefixed } from './detect.js';
import { Emitter } from './emit.js';
import { fieldsChanged, rulesGroupedBy, sharedFields } from './shared-rules.js';

interface FanoutSnapshot {
  detections: Record<string, DetectionSnapshot>;
  /** Highest source offset applied per `<field>/<source partition>`, as decimal strings. */
  applied: Record<string, string>;
}

/**
 * Device/IP-keyed detection on the repartition topic's bundles: one engine of scope 'shared' per field, each fed only
 * the observations of that field. Strikes go to the strikes topics keyed by accountId.
 *
 * Events of different account partitions meet here, interleaved by batch rather than by time, so the engines accept
 * `allowedSkew` more lateness than the policy. Replays of detect republish observations already applied; they are
 * recognised by their source position, which grows per field and source partition, at no memory cost per event.
 */
export function fanoutStage(topics: Topics, rules: RuleSet, policy: Policy, allowedSkew: number, metrics: PipelineMetrics): Stage {
  const fields = sharedFields(rules);
  const skewed: Policy = { ...policy, time: { ...policy.time, allowedLateness: policy.time.allowedLateness + allowedSkew } };
  let ruleSets = new Map(fields.map((f) => [f, rulesGroupedBy(rules, f)]));
  return {
    name: 'fanout',
    inputs: [topics.repartition],
    newTask: (_partition: number, out: Outputs) => new FanoutTask(ruleSets, skewed, new Emitter('fanout', topics, out, metrics)),
    replaceRules: (next) => {
      const refused = fieldsChanged(fields, next);
      if (refused === undefined) ruleSets = new Map(fields.map((f) => [f, rulesGroupedBy(next, f)]));
      return refused;
    },
  };
}

class FanoutTask implements StageTask {
  private readonly detections = new Map<string, Detection>();
  private readonly applied = new Map<string, bigint>();
  private readonly decisions;

  constructor(
    ruleSets: ReadonlyMap<EventField, RuleSet>,
    policy: Policy,
    private readonly emit: Emitter,
  ) {
    for (const [field, rules] of ruleSets) this.detections.set(field, new Detection(rules, policy, 'shared'));
    // Shared engines make no speed decisions; the callback is required by the engine's interface.
    this.decisions = { strike: emit.strike, speed: () => {} };
  }

  replaceRules(rules: RuleSet): void {
    for (const [field, detection] of this.detections) detection.replaceRules(rulesGroupedBy(rules, field as EventField));
  }

  handle(topic: string, partition: number, m: KafkaMessage): undefined {
    const source = sourceOf(topic, partition, m.offset);
    const bundle = decodeBundle(m.value);
    if (!bundle.ok) {
      // Only detect writes here, so this is another producer's message or a damaged one: set aside whole.
      this.emit.deadLetter(m.key, { reason: bundle.reason, detail: bundle.detail, raw: rawText(m.value), source });
      return;
    }
    for (const o of bundle.observations) this.observe(o, source);
  }

  private observe(o: Observation, source: string): void {
    const detection = this.detections.get(o.field);
    if (!detection) {
      // A rule set that changed under a backlog.
      this.emit.deadLetter(o.key, { reason: 'schema', detail: `no shared rule groups by "${o.field}"`, raw: rawText(o.event), source });
      return;
    }
    const stream = `${o.field}/${o.partition}`;
    if (o.offset <= (this.applied.get(stream) ?? -1n)) {
      this.emit.count('duplicate');
      return;
    }
    this.applied.set(stream, o.offset);
    const parsed = decodeEvent(o.event);
    if (!parsed.ok) {
      this.emit.deadLetter(o.key, { reason: parsed.reason, detail: parsed.detail, raw: rawText(o.event), source });
      return;
    }
    const admission = detection.ingest(parsed.value, this.decisions);
    if (admission === 'late') {
      const detail = `behind the ${o.field} watermark by more than the allowed lateness plus fanout.allowedSkew`;
      this.emit.deadLetter(o.key, { reason: 'late', detail, raw: rawText(o.event), source });
      return;
    }
    this.emit.count(admission);
  }

  snapshot(): FanoutSnapshot {
    return {
      detections: Object.fromEntries([...this.detections].map(([f, d]) => [f, d.snapshot()])),
      applied: Object.fromEntries([...this.applied].map(([k, o]) => [k, String(o)])),
    };
  }

  restore(snapshot: unknown): void {
    const s = snapshot as FanoutSnapshot;
    for (const [field, d] of this.detections) {
      const saved = s.detections[field];
      if (saved) d.restore(saved);
    }
    this.applied.clear();
    for (const [k, o] of Object.entries(s.applied)) this.applied.set(k, BigInt(o));
  }

  stateSize(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.detections.values()) {
      const s = d.stateSize;
      Object.assign(out, prefixed('keys:', s.keys));
      out.eventIds = (out.eventIds ?? 0) + s.dedupe;
    }
    return out;
  }
}
