import type { Case, Command, Strike, Transition } from '../contract/outputs.js';
import type { EnforcementPolicy } from '../policy/schema.js';
import { iso } from '../time/instant.js';
import { Enforcer, newStanding, type Standing } from './enforcement.js';

export interface StandingsOutput {
  transition(t: Transition): void;
  /** The account's case after any change: the support team's unit of work. */
  caseUpdated?(c: Case): void;
}

/** An account's standing plus everything support needs to review it. */
interface CaseFile {
  standing: Standing;
  strikes: Strike[];
  transitions: Transition[];
  openedAt: number;
  updatedAt: number;
}

export interface StandingsSnapshot {
  files: Array<[string, CaseFile]>;
}

/**
 * The enforcement side of the engine: enforced strikes and support commands in, transitions and cases out.
 * Only accounts that were ever struck or acted on have a case file.
 */
export class Standings {
  private readonly enforcer: Enforcer;
  private readonly files = new Map<string, CaseFile>();

  constructor(policy: EnforcementPolicy) {
    this.enforcer = new Enforcer(policy);
  }

  get size(): number {
    return this.files.size;
  }

  private file(accountId: string, ts: number): CaseFile {
    let f = this.files.get(accountId);
    if (!f) {
      f = newFile(accountId, ts);
      this.files.set(accountId, f);
    }
    return f;
  }

  applyStrike(strike: Strike, out: StandingsOutput): void {
    const ts = Date.parse(strike.at);
    const f = this.file(strike.accountId, ts);
    if (f.standing.applied.includes(strike.strikeId)) return;
    const t = this.enforcer.applyStrike(f.standing, strike);
    f.strikes.push(strike);
    this.record(f, ts, t, out);
  }

  /** Applies a support command; throws EnforcementError if the account's state does not allow it. */
  applyCommand(cmd: Command, out: StandingsOutput): Transition | undefined {
    const ts = Date.parse(cmd.at);
    // A refused command must not open a case, so the file is only kept once the command applies.
    const f = this.files.get(cmd.accountId) ?? newFile(cmd.accountId, ts);
    const t = this.enforcer.applyCommand(f.standing, cmd);
    this.files.set(cmd.accountId, f);
    this.record(f, ts, t, out);
    return t;
  }

  private record(f: CaseFile, ts: number, t: Transition | undefined, out: StandingsOutput): void {
    if (ts > f.updatedAt) f.updatedAt = ts;
    if (t) {
      f.transitions.push(t);
      out.transition(t);
    }
    out.caseUpdated?.(this.toCase(f));
  }

  status(accountId: string): Standing['status'] {
    return this.files.get(accountId)?.standing.status ?? 'active';
  }

  caseOf(accountId: string): Case | undefined {
    const f = this.files.get(accountId);
    return f && this.toCase(f);
  }

  cases(): Case[] {
    return [...this.files.values()].map((f) => this.toCase(f));
  }

  private toCase(f: CaseFile): Case {
    const s = f.standing;
    return {
      caseId: `case_${s.accountId}`,
      accountId: s.accountId,
      status: s.status,
      points: this.enforcer.points(s, f.updatedAt),
      appeal: { status: s.appeal.status, ...(s.appeal.at === null ? {} : { at: iso(s.appeal.at) }) },
      openedAt: iso(f.openedAt),
      updatedAt: iso(f.updatedAt),
      rules: [...new Set(f.strikes.map((k) => k.ruleId))].sort(),
      strikes: f.strikes,
      transitions: f.transitions,
    };
  }

  snapshot(): StandingsSnapshot {
    return structuredClone({ files: [...this.files] });
  }

  restore(s: StandingsSnapshot): void {
    this.files.clear();
    for (const [id, f] of structuredClone(s.files)) this.files.set(id, f);
  }
}

function newFile(accountId: string, ts: number): CaseFile {
  return { standing: newStanding(accountId), strikes: [], transitions: [], openedAt: ts, updatedAt: ts };
}
