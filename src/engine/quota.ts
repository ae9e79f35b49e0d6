import { iso } from '../time/instant.js';
import type { GenerationEvent } from '../contract/event.js';
import type { SpeedDecision } from '../contract/outputs.js';
import type { Policy } from '../policy/schema.js';
import { localDay } from '../time/zone.js';
import { deterministicId } from './ids.js';
import { NONE, append } from './window/compact.js';

/** One account's Fast usage on its current local day. */
export interface QuotaState {
  zone: string;
  date: string;
  dayStart: number;
  dayEnd: number;
  image: number;
  video: number;
  /** `tool:speed` decisions already made today, so each is emitted once. */
  decided: readonly string[];
}

/**
 * The daily Fast limit: counts Unlimited Fast requests per local day of the account's zone and, on reaching the
 * plan's limit, moves the account to Relaxed (or blocks models without Relaxed) until the next local midnight.
 */
export class DailyFastQuota {
  private readonly relaxed: ReadonlySet<string>;

  constructor(private readonly policy: Policy['quota']) {
    this.relaxed = new Set(policy.relaxedModels);
  }

  observe(state: QuotaState | undefined, event: GenerationEvent, ts: number, emit: (d: SpeedDecision) => void): QuotaState | undefined {
    if (event.type !== 'generation.requested' || !event.unlimited || event.speed !== 'fast') return state;
    const limit = this.policy.plans[event.plan]?.[event.tool];
    if (limit === undefined) return state;
    let s = state;
    // The zone is read when a day starts and kept until that day ends: a client flipping zones mid-day
    // (or omitting one) must not reset the count and buy itself another day of Fast.
    if (!s || ts >= s.dayEnd) {
      const zone = event.timezone ?? 'UTC';
      const day = localDay(zone, ts);
      s = { zone, date: day.date, dayStart: day.start, dayEnd: day.end, image: 0, video: 0, decided: NONE };
    }
    // A late event from a day already closed cannot change that day's decisions.
    if (ts < s.dayStart) return s;
    const used = ++s[event.tool];
    if (used < limit) return s;
    const speed = this.relaxed.has(event.model) ? 'relaxed' : 'blocked';
    const decision = `${event.tool}:${speed}`;
    if (s.decided.includes(decision)) return s;
    s.decided = append(s.decided, decision);
    emit({
      decisionId: deterministicId('spd', event.accountId, 'daily-fast-quota', s.date, decision),
      accountId: event.accountId,
      kind: 'daily-fast-quota',
      speed,
      at: iso(ts),
      until: iso(s.dayEnd),
      reason:
        speed === 'relaxed'
          ? `daily Fast limit of ${limit} ${event.tool} generations reached; Relaxed until local midnight`
          : `daily Fast limit of ${limit} ${event.tool} generations reached; ${event.model} has no Relaxed queue, blocked until local midnight`,
      tool: event.tool,
      model: event.model,
      used,
      limit,
      localDate: s.date,
      timezone: s.zone,
    });
    return s;
  }
}
