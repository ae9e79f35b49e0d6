import type { KafkaMessage } from 'kafkajs';
import { Command, Strike, type Case, type Transition } from '../../../contract/outputs.js';
import { EnforcementError } from '../../../engine/enforcement.js';
import { Standings, type StandingsSnapshot } from '../../../engine/standings.js';
import type { EnforcementPolicy } from '../../../policy/schema.js';
import { decodeRecord, rawText, recordMessage, sourceOf } from '../codec.js';
import type { PipelineMetrics } from '../metrics.js';
import type { Outputs, Stage, StageTask } from '../stage.js';
import type { Topics } from '../topics.js';
import { Emitter } from './emit.js';

/** What the platform materialises per account from the compacted account-state topic. */
export interface AccountState {
  accountId: string;
  status: Case['status'];
  points: number;
  appeal: Case['appeal'];
  caseId: string;
  updatedAt: string;
}

export function accountStateOf(c: Case): AccountState {
  return { accountId: c.accountId, status: c.status, points: c.points, appeal: c.appeal, caseId: c.caseId, updatedAt: c.updatedAt };
}

/**
 * Enforcement on the co-partitioned strikes and commands topics: one Standings per partition number. Transitions
 * go out as they happen; the case and account state go to compacted topics after every change.
 */
export function enforceStage(topics: Topics, policy: EnforcementPolicy, metrics: PipelineMetrics): Stage {
  return {
    name: 'enforce',
    inputs: [topics.strikes, topics.commands],
    newTask: (_partition: number, out: Outputs) => new EnforceTask(new Standings(policy), topics, new Emitter('enforce', topics, out, metrics)),
  };
}

class EnforceTask implements StageTask {
  private readonly decisions;

  constructor(
    private readonly standings: Standings,
    private readonly topics: Topics,
    private readonly emit: Emitter,
  ) {
    this.decisions = {
      transition: (t: Transition) => emit.push(topics.transitions, recordMessage(t.accountId, t.transitionId, t)),
      caseUpdated: (c: Case) => {
        emit.push(topics.cases, recordMessage(c.accountId, c.caseId, c));
        emit.push(topics.accountState, recordMessage(c.accountId, c.caseId, accountStateOf(c)));
      },
    };
  }

  handle(topic: string, partition: number, m: KafkaMessage): undefined {
    const source = sourceOf(topic, partition, m.offset);
    if (topic === this.topics.commands) {
      this.command(m, source);
      return;
    }
    const strike = decodeRecord(m.value, Strike);
    if (!strike.ok) {
      this.emit.deadLetter(m.key, { reason: strike.reason, detail: `strike: ${strike.detail}`, raw: rawText(m.value), source });
      return;
    }
    if (strike.value.mode !== 'enforce') {
      // Shadow strikes never escalate; one here was written by something other than this pipeline.
      this.emit.deadLetter(m.key, { reason: 'schema', detail: 'shadow strike on the strikes topic', raw: rawText(m.value), source });
      return;
    }
    this.standings.applyStrike(strike.value, this.decisions);
    this.emit.count('accepted');
  }

  private command(m: KafkaMessage, source: string): void {
    const cmd = decodeRecord(m.value, Command);
    if (!cmd.ok) {
      this.emit.deadLetter(m.key, { reason: 'bad-command', detail: `${cmd.reason === 'not-json' ? 'not JSON' : 'invalid command'}: ${cmd.detail}`, raw: rawText(m.value), source });
      return;
    }
    try {
      this.standings.applyCommand(cmd.value, this.decisions);
      this.emit.count('accepted');
    } catch (err) {
      if (!(err instanceof EnforcementError)) throw err;
      this.emit.deadLetter(m.key, { reason: 'bad-command', detail: err.message, raw: rawText(m.value), source });
    }
  }

  snapshot(): StandingsSnapshot {
    return this.standings.snapshot();
  }

  restore(snapshot: unknown): void {
    this.standings.restore(snapshot as StandingsSnapshot);
  }

  stateSize(): Record<string, number> {
    return { cases: this.standings.size };
  }
}
