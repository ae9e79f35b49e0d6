import type { DeadLetter, SpeedDecision, Strike } from '../../../contract/outputs.js';
import { deadLetterMessage, recordMessage } from '../codec.js';
import type { PipelineMetrics } from '../metrics.js';
import type { Observation } from '../repartition.js';
import type { Outputs, StageName } from '../stage.js';
import type { Topics } from '../topics.js';

type Outcome = 'accepted' | 'duplicate' | 'late' | 'bad';

/** Output helpers shared by the stages: every record keyed by accountId with its id in a header. */
export class Emitter {
  /** Counters bound to their labels once: a label lookup per message shows in the profile. */
  private readonly outcomes: Record<Outcome, { inc(): void }>;

  constructor(
    private readonly stage: StageName,
    private readonly topics: Topics,
    private readonly out: Outputs,
    private readonly metrics: PipelineMetrics,
  ) {
    const bound = (outcome: Outcome) => metrics.events.labels({ stage, outcome });
    this.outcomes = { accepted: bound('accepted'), duplicate: bound('duplicate'), late: bound('late'), bad: bound('bad') };
  }

  count(outcome: Outcome): void {
    this.outcomes[outcome].inc();
  }

  /** Enforced strikes feed enforcement; shadow strikes are only recorded. */
  readonly strike = (s: Strike): void => {
    this.metrics.strikes.inc({ stage: this.stage, rule: s.ruleId, mode: s.mode });
    this.out.push(s.mode === 'shadow' ? this.topics.shadowStrikes : this.topics.strikes, recordMessage(s.accountId, s.strikeId, s));
  };

  readonly speed = (d: SpeedDecision): void => {
    this.out.push(this.topics.quota, recordMessage(d.accountId, d.decisionId, d));
  };

  deadLetter(key: Buffer | string | null, letter: DeadLetter): void {
    this.metrics.deadLetters.inc({ stage: this.stage, reason: letter.reason });
    this.count(letter.reason === 'late' ? 'late' : 'bad');
    this.out.push(this.topics.deadLetter, deadLetterMessage(key, letter));
  }

  push(topic: string, message: Parameters<Outputs['push']>[1]): void {
    this.out.push(topic, message);
  }

  /** An accepted event on its way to the fanout partition of one of its shared field values. */
  repartition(partition: number, observation: Observation): void {
    this.out.bundle(this.topics.repartition, partition, observation);
  }
}
