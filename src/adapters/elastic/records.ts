import type { DeadLetter, SpeedDecision, Strike, Transition } from '../../contract/outputs.js';
import { deterministicId } from '../../engine/ids.js';
import type { AuditEntry } from '../../support/audit.js';
import type { BulkOp } from './bulk.js';
import type { IndexNames } from './indexes.js';

/**
 * The immutable records the sink indexes, tagged by kind: what an embedded run writes as NDJSON and what the
 * Kafka stage reads from its topics. Cases are not among them: they are state, updated through the CaseLedger.
 */
export type SinkRecord =
  | { kind: 'strike'; value: Strike }
  | { kind: 'transition'; value: Transition }
  | { kind: 'speed-decision'; value: SpeedDecision }
  | { kind: 'dead-letter'; value: DeadLetter }
  | { kind: 'audit'; value: AuditEntry };

export type SinkKind = SinkRecord['kind'];

/** Dead letters carry no id of their own; this one is stable across replays of the same input. */
export function deadLetterId(d: DeadLetter): string {
  return deterministicId('dlq', d.reason, d.detail, d.raw, d.source ?? '');
}

/** Every record is written with `create` under a deterministic id, so a replay indexes nothing twice. */
export function bulkOpOf(rec: SinkRecord, names: IndexNames, now: number): BulkOp {
  switch (rec.kind) {
    case 'strike':
      return { op: 'create', index: names.strikes, id: rec.value.strikeId, doc: rec.value };
    case 'transition':
      return { op: 'create', index: names.transitions, id: rec.value.transitionId, doc: rec.value };
    case 'speed-decision':
      return { op: 'create', index: names.speedDecisions, id: rec.value.decisionId, doc: rec.value };
    case 'audit':
      return { op: 'create', index: names.audit, id: rec.value.auditId, doc: rec.value };
    case 'dead-letter': {
      const id = deadLetterId(rec.value);
      // indexedAt is the retention clock; `create` keeps the first one when the same dead letter is replayed.
      return { op: 'create', index: names.deadLetters, id, doc: { ...rec.value, deadLetterId: id, indexedAt: new Date(now).toISOString() } };
    }
  }
}
