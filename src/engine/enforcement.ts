import { BEGINNING, iso } from '../time/instant.js';
import type { AccountStatus, AppealStatus, Command, CommandKind, Strike, Transition } from '../contract/outputs.js';
import type { EnforcementPolicy } from '../policy/schema.js';
import { formatDuration } from '../time/duration.js';
import { deterministicId } from './ids.js';

/** An account's standing under the fair-use policy. Plain data, so it snapshots as JSON. */
export interface Standing {
  accountId: string;
  status: AccountStatus;
  /** Enforced strikes that may still count: inside the lookback and after the last restore. */
  strikes: Array<{ strikeId: string; ts: number; points: number }>;
  appeal: { status: AppealStatus; at: number | null };
  /** Until when a new violation suspends outright, after an appeal restored access. */
  probationUntil: number | null;
  /** Strikes at or before this time were settled by a restore and no longer count. */
  clearedAt: number;
  /** Strike and command ids already applied, so redeliveries change nothing. */
  applied: string[];
}

export class EnforcementError extends Error {
  override name = 'EnforcementError';
}

/** Which statuses each command may be applied in (and what else it needs). */
const ALLOWED: Record<CommandKind, { from: readonly AccountStatus[]; appeal?: AppealStatus; needs: string }> = {
  'appeal.open': { from: ['paused'], needs: 'a paused account without an open appeal' },
  'appeal.restore': { from: ['paused'], appeal: 'open', needs: 'a paused account with an open appeal' },
  'appeal.uphold': { from: ['paused'], appeal: 'open', needs: 'a paused account with an open appeal' },
  'manual.pause': { from: ['active'], needs: 'an active account' },
  'manual.suspend': { from: ['active', 'paused'], needs: 'an active or paused account' },
  'manual.restore': { from: ['paused'], needs: 'a paused account' },
};

export function newStanding(accountId: string): Standing {
  return { accountId, status: 'active', strikes: [], appeal: { status: 'none', at: null }, probationUntil: null, clearedAt: BEGINNING, applied: [] };
}

/**
 * The pause/suspend state machine: strikes escalate an account by points within a lookback; support commands
 * (appeals, manual actions) move it by hand. `suspended` is final.
 */
export class Enforcer {
  constructor(private readonly policy: EnforcementPolicy) {}

  /** Strike points that count at `ts`. */
  points(s: Standing, ts: number): number {
    let sum = 0;
    for (const k of s.strikes) if (k.ts > ts - this.policy.lookback && k.ts <= ts && k.ts > s.clearedAt) sum += k.points;
    return sum;
  }

  /** Applies an enforced strike; returns the transition it causes, if any. Shadow strikes never reach here. */
  applyStrike(s: Standing, strike: Strike): Transition | undefined {
    if (strike.mode !== 'enforce' || s.applied.includes(strike.strikeId)) return undefined;
    s.applied.push(strike.strikeId);
    const ts = Date.parse(strike.at);
    s.strikes = s.strikes.filter((k) => k.ts > ts - this.policy.lookback && k.ts > s.clearedAt);
    s.strikes.push({ strikeId: strike.strikeId, ts, points: strike.points });
    if (s.status === 'suspended') return undefined;

    const points = this.points(s, ts);
    const counted = s.strikes.filter((k) => k.ts <= ts).map((k) => k.strikeId);
    const { pauseAt, suspendAt } = this.policy;
    if (points >= suspendAt) {
      return this.move(s, 'suspended', ts, `${points} strike points within ${formatDuration(this.policy.lookback)} (suspend at ${suspendAt})`, 'system', counted, strike.strikeId);
    }
    if (s.status === 'active' && points >= pauseAt) {
      if (s.probationUntil !== null && ts < s.probationUntil) {
        return this.move(s, 'suspended', ts, `repeat violation after a restored appeal: ${points} strike points (pause at ${pauseAt})`, 'system', counted, strike.strikeId);
      }
      return this.move(s, 'paused', ts, `${points} strike points within ${formatDuration(this.policy.lookback)} (pause at ${pauseAt}); Unlimited paused pending review`, 'system', counted, strike.strikeId);
    }
    return undefined;
  }

  /**
   * Applies a support command. Throws EnforcementError when the command is impossible in the account's state;
   * a command already applied (same commandId) changes nothing.
   */
  applyCommand(s: Standing, cmd: Command): Transition | undefined {
    if (s.applied.includes(cmd.commandId)) return undefined;
    const rule = ALLOWED[cmd.kind];
    const appealOk = rule.appeal === undefined ? !(cmd.kind === 'appeal.open' && s.appeal.status === 'open') : s.appeal.status === rule.appeal;
    if (!rule.from.includes(s.status) || !appealOk) {
      const appeal = s.appeal.status === 'none' ? '' : ` (appeal ${s.appeal.status})`;
      throw new EnforcementError(`cannot ${cmd.kind} account ${s.accountId}: it is ${s.status}${appeal}; ${cmd.kind} needs ${rule.needs}`);
    }
    s.applied.push(cmd.commandId);
    const ts = Date.parse(cmd.at);
    const by = `${cmd.kind} by ${cmd.actor}: ${cmd.reason}`;
    switch (cmd.kind) {
      case 'appeal.open':
        s.appeal = { status: 'open', at: ts };
        return undefined;
      case 'appeal.restore':
        s.appeal = { status: 'restored', at: ts };
        s.probationUntil = ts + this.policy.probation;
        return this.restore(s, ts, by, cmd);
      case 'appeal.uphold':
        s.appeal = { status: 'upheld', at: ts };
        return this.policy.onAppealUpheld === 'suspended' ? this.move(s, 'suspended', ts, by, cmd.actor, [], cmd.commandId) : undefined;
      case 'manual.pause':
        return this.move(s, 'paused', ts, by, cmd.actor, [], cmd.commandId);
      case 'manual.suspend':
        return this.move(s, 'suspended', ts, by, cmd.actor, [], cmd.commandId);
      case 'manual.restore':
        return this.restore(s, ts, by, cmd);
    }
  }

  private restore(s: Standing, ts: number, reason: string, cmd: Command): Transition {
    // Strikes behind the pause were reviewed; only new behaviour counts from here on.
    s.clearedAt = ts;
    s.strikes = [];
    return this.move(s, 'active', ts, reason, cmd.actor, [], cmd.commandId);
  }

  private move(s: Standing, to: AccountStatus, ts: number, reason: string, actor: string, strikeIds: string[], cause: string): Transition {
    const from = s.status;
    s.status = to;
    return {
      transitionId: deterministicId('trn', s.accountId, from, to, ts, cause),
      accountId: s.accountId,
      from,
      to,
      at: iso(ts),
      reason,
      actor,
      strikeIds,
      ...(actor === 'system' ? {} : { commandId: cause }),
    };
  }
}
