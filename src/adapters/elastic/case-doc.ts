import type { Case } from '../../contract/outputs.js';
import type { Standing } from '../../engine/enforcement.js';
import type { StandingsSnapshot } from '../../engine/standings.js';
import { summaryOf, type CaseSummary } from '../../support/cases.js';

/** The engine's per-account case file, as `Standings.snapshot()` hands it out and `restore()` takes it back. */
export type CaseFile = StandingsSnapshot['files'][number][1];

/**
 * One document per account in the cases index (id = accountId): the contract's Case for support, a few derived
 * fields to filter and sort on, and the engine's Standing so that the state machine can continue from it.
 */
export interface CaseDoc extends Case, Pick<CaseSummary, 'strikeCount' | 'firstStrikeAt' | 'lastStrikeAt' | 'statusReason'> {
  /** When `points` was computed: updatedAt, or later when the points job recomputed it as strikes expired. */
  pointsAsOf: string;
  standing: Standing;
}

export function caseDoc(c: Case, standing: Standing): CaseDoc {
  return { ...summaryOf(c), strikes: c.strikes, transitions: c.transitions, pointsAsOf: c.updatedAt, standing };
}

export function caseFileOf(doc: CaseDoc): CaseFile {
  return {
    standing: doc.standing,
    strikes: doc.strikes,
    transitions: doc.transitions,
    openedAt: Date.parse(doc.openedAt),
    updatedAt: Date.parse(doc.updatedAt),
  };
}

/** The contract's Case: what support and exports see, without the engine state. */
export function caseOf(doc: CaseDoc): Case {
  const { strikeCount: _n, firstStrikeAt: _f, lastStrikeAt: _l, statusReason: _r, pointsAsOf: _p, standing: _s, ...c } = doc;
  return c;
}
