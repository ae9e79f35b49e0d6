import { BEGINNING } from '../time/instant.js';
import type { TimedEvent } from '../contract/parse.js';
import type { SpeedDecision, Strike } from '../contract/outputs.js';
import type { Policy } from '../policy/schema.js';
import type { RuleSet } from '../rules/ruleset.js';
import { Deduper, type DedupeSnapshot } from './dedupe.js';
import { Detector, type DetectorScope, type DetectorSnapshot } from './detector.js';
import { HealthLimits, newHealth, type HealthState } from './health.js';
import { DailyFastQuota, type QuotaState } from './quota.js';
import { inFlightAt, newInFlight, requestEnded, requestStarted, type InFlight } from './window/inflight.js';

export interface DetectionOutput {
  strike(strike: Strike): void;
  speed(decision: SpeedDecision): void;
}

/** What happened to an event offered to the engine. */
export type Admission = 'accepted' | 'duplicate' | 'late';

/** Per-account trackers outside the rules: generations in flight, the daily quota, health limits. */
interface AccountState {
  lastSeen: number;
  inFlight: InFlight;
  quota: QuotaState | undefined;
  health: HealthState | undefined;
}

export interface DetectionSnapshot {
  newest: number;
  dedupe: DedupeSnapshot;
  accounts: Array<[string, AccountState]>;
  detector: DetectorSnapshot;
}

/** Idle keys are swept at most this often (event time), at least a quarter of the shortest retention: a sweep scans every key. */
const MIN_SWEEP_EVERY = 15 * 60_000;
/** Quota state must outlive the longest local day (25 h) plus lateness. */
const QUOTA_RETENTION = 26 * 3_600_000;

/**
 * The detection side of the engine: events in, strikes and speed decisions out. Pure and synchronous; the clock is
 * the events' `occurredAt`, with a watermark that trails the newest event by the allowed lateness.
 */
export class Detection {
  private detector: Detector;
  private readonly quota: DailyFastQuota;
  private readonly health: HealthLimits;
  private readonly dedupe: Deduper;
  private readonly accounts = new Map<string, AccountState>();
  private readonly tracksAccounts: boolean;
  private readonly accountRetention: number;
  private readonly sweepEvery: number;
  private newest = BEGINNING;
  private nextSweep = BEGINNING;

  constructor(
    rules: RuleSet,
    private readonly policy: Policy,
    private readonly scope: DetectorScope = 'all',
  ) {
    this.detector = new Detector(rules.rules, policy.time.inflightTimeout, scope);
    this.quota = new DailyFastQuota(policy.quota);
    this.health = new HealthLimits(policy.health);
    this.dedupe = new Deduper(policy.time.dedupeHorizon);
    this.tracksAccounts = scope !== 'shared';
    const sustained = policy.health.sustained;
    this.accountRetention = Math.max(policy.time.inflightTimeout, QUOTA_RETENTION, sustained ? sustained.bucket * sustained.of : 0);
    this.sweepEvery = Math.max(MIN_SWEEP_EVERY, Math.min(this.accountRetention, this.detector.shortestRetention) / 4);
  }

  /** Event time up to which all events are assumed to have arrived. */
  get watermark(): number {
    return this.newest - this.policy.time.allowedLateness;
  }

  get stateSize(): { accounts: number; dedupe: number; keys: Record<string, number> } {
    return { accounts: this.accounts.size, dedupe: this.dedupe.size, keys: this.detector.size };
  }

  ingest({ event, ts }: TimedEvent, out: DetectionOutput): Admission {
    if (ts < this.watermark) return 'late';
    const newest = ts > this.newest ? ts : this.newest;
    if (this.dedupe.isDuplicate(event.eventId, newest)) return 'duplicate';
    this.newest = newest;

    let inFlight = 0;
    if (this.tracksAccounts) {
      let account = this.accounts.get(event.accountId);
      if (!account) {
        account = { lastSeen: ts, inFlight: newInFlight(), quota: undefined, health: undefined };
        this.accounts.set(event.accountId, account);
      }
      if (ts > account.lastSeen) account.lastSeen = ts;
      if (event.type === 'generation.requested') requestStarted(account.inFlight, event.requestId, ts);
      else if (event.type === 'generation.completed' || event.type === 'generation.failed') requestEnded(account.inFlight, event.requestId);
      inFlight = inFlightAt(account.inFlight, ts, this.policy.time.inflightTimeout);
      account.quota = this.quota.observe(account.quota, event, ts, out.speed);
      if (this.health.active) this.health.observe((account.health ??= newHealth()), event, ts, inFlight, out.speed);
    }
    this.detector.observe({ event, ts, inFlight }, out.strike);
    this.housekeeping();
    return 'accepted';
  }

  private housekeeping(): void {
    if (this.newest < this.nextSweep) return;
    this.nextSweep = this.newest + this.sweepEvery;
    const watermark = this.watermark;
    this.detector.evictIdle(watermark);
    for (const [id, account] of this.accounts) {
      if (account.lastSeen <= watermark - this.accountRetention) this.accounts.delete(id);
    }
  }

  /** Hooks a tracer into rule evaluation (explain, backtests); undefined switches it off. */
  set tracer(tracer: Detector['tracer']) {
    this.detector.tracer = tracer;
  }

  /**
   * Swaps in a new rule set atomically between two events. Rules whose windows did not change (same id and window
   * signature) keep their state; cooldowns carry over so a reload does not re-strike.
   */
  replaceRules(rules: RuleSet): void {
    const next = new Detector(rules.rules, this.policy.time.inflightTimeout, this.scope);
    next.restore(this.detector.snapshot());
    next.tracer = this.detector.tracer;
    this.detector = next;
  }

  snapshot(): DetectionSnapshot {
    return {
      newest: this.newest,
      dedupe: this.dedupe.snapshot(),
      accounts: structuredClone([...this.accounts]),
      detector: this.detector.snapshot(),
    };
  }

  restore(s: DetectionSnapshot): void {
    this.newest = s.newest;
    this.nextSweep = BEGINNING;
    this.dedupe.restore(s.dedupe);
    this.accounts.clear();
    for (const [id, account] of structuredClone(s.accounts)) this.accounts.set(id, account);
    this.detector.restore(s.detector);
  }
}
