import type { TimedEvent } from '../contract/parse.js';
import type { Case, Command, SpeedDecision, Strike, Transition } from '../contract/outputs.js';
import type { Policy } from '../policy/schema.js';
import type { RuleSet } from '../rules/ruleset.js';
import { Detection, type Admission, type DetectionSnapshot } from './detection.js';
import { Standings, type StandingsSnapshot } from './standings.js';

/** Everything the engine decides, as callbacks so the hot path allocates no result arrays. */
export interface Decisions {
  strike(s: Strike): void;
  shadowStrike(s: Strike): void;
  transition(t: Transition): void;
  speed(d: SpeedDecision): void;
  caseUpdated?(c: Case): void;
}

export interface PipelineStats {
  accepted: number;
  duplicates: number;
  late: number;
  strikesByRule: Record<string, number>;
  shadowStrikesByRule: Record<string, number>;
  transitions: number;
  speedDecisions: number;
}

export interface PipelineSnapshot {
  detection: DetectionSnapshot;
  standings: StandingsSnapshot;
}

/**
 * Detection and enforcement in one process, as the embedded run uses them: events and support commands in,
 * strikes, speed decisions, transitions and cases out. Kafka stages use the two halves separately.
 */
export class Pipeline {
  readonly detection: Detection;
  readonly standings: Standings;
  readonly stats: PipelineStats = { accepted: 0, duplicates: 0, late: 0, strikesByRule: {}, shadowStrikesByRule: {}, transitions: 0, speedDecisions: 0 };
  private readonly detectionOut;
  private readonly standingsOut;

  constructor(rules: RuleSet, policy: Policy, out: Decisions) {
    this.detection = new Detection(rules, policy);
    this.standings = new Standings(policy.enforcement);
    const stats = this.stats;
    this.standingsOut = {
      transition: (t: Transition) => {
        stats.transitions++;
        out.transition(t);
      },
      ...(out.caseUpdated ? { caseUpdated: out.caseUpdated } : {}),
    };
    this.detectionOut = {
      strike: (s: Strike) => {
        if (s.mode === 'shadow') {
          stats.shadowStrikesByRule[s.ruleId] = (stats.shadowStrikesByRule[s.ruleId] ?? 0) + 1;
          out.shadowStrike(s);
          return;
        }
        stats.strikesByRule[s.ruleId] = (stats.strikesByRule[s.ruleId] ?? 0) + 1;
        out.strike(s);
        this.standings.applyStrike(s, this.standingsOut);
      },
      speed: (d: SpeedDecision) => {
        stats.speedDecisions++;
        out.speed(d);
      },
    };
  }

  ingest(event: TimedEvent): Admission {
    const admission = this.detection.ingest(event, this.detectionOut);
    if (admission === 'accepted') this.stats.accepted++;
    else if (admission === 'duplicate') this.stats.duplicates++;
    else this.stats.late++;
    return admission;
  }

  /** Applies a support command; throws EnforcementError when the account's state does not allow it. */
  command(cmd: Command): Transition | undefined {
    return this.standings.applyCommand(cmd, this.standingsOut);
  }

  snapshot(): PipelineSnapshot {
    return { detection: this.detection.snapshot(), standings: this.standings.snapshot() };
  }

  restore(s: PipelineSnapshot): void {
    this.detection.restore(s.detection);
    this.standings.restore(s.standings);
  }
}
