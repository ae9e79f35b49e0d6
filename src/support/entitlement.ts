import type { AccountStatus, SpeedDecision } from '../contract/outputs.js';

export type Speed = SpeedDecision['speed'];

/** What the platform may let an account do right now: checked on the request path of every generation. */
export interface Entitlement {
  accountId: string;
  access: AccountStatus;
  speed: Speed;
  /** When the current restriction lifts; null when there is none or it lasts until a support decision. */
  until: string | null;
  reasons: string[];
  /** Set while a concurrency cap applies. */
  maxConcurrent?: number;
}

/** What the entitlement is computed from: the case's status and the account's recent speed decisions. */
export interface EntitlementInputs {
  status?: AccountStatus;
  statusReason?: string;
  decisions: SpeedDecision[];
}

export interface EntitlementSource {
  load(accountId: string, now: number): Promise<EntitlementInputs>;
}

/** Narrows speed decisions to one tool (daily quotas are per tool); without it, every decision counts. */
export interface EntitlementScope {
  tool?: 'image' | 'video';
}

const RANK: Record<Speed, number> = { fast: 0, relaxed: 1, blocked: 2 };

/**
 * A paused or suspended account gets nothing; an active one gets the most restrictive speed among the decisions in
 * force at `now` (a daily quota, a throttle, a concurrency cap), until the latest of those at that speed ends.
 */
export function entitlementOf(accountId: string, inputs: EntitlementInputs, now: number, scope: EntitlementScope = {}): Entitlement {
  const access = inputs.status ?? 'active';
  if (access !== 'active') {
    return { accountId, access, speed: 'blocked', until: null, reasons: [inputs.statusReason ?? `account ${access}`] };
  }
  const inForce = inputs.decisions
    .filter((d) => Date.parse(d.at) <= now && now < Date.parse(d.until))
    .filter((d) => scope.tool === undefined || d.tool === undefined || d.tool === scope.tool)
    .sort((a, b) => RANK[b.speed] - RANK[a.speed] || Date.parse(b.until) - Date.parse(a.until));
  const top = inForce[0];
  if (!top) return { accountId, access, speed: 'fast', until: null, reasons: [] };
  const caps = inForce.flatMap((d) => (d.maxConcurrent === undefined ? [] : [d.maxConcurrent]));
  return {
    accountId,
    access,
    speed: top.speed,
    until: top.until,
    reasons: [...new Set(inForce.map((d) => d.reason))],
    ...(caps.length > 0 ? { maxConcurrent: Math.min(...caps) } : {}),
  };
}

interface Cached {
  expires: number;
  value: Promise<Entitlement>;
}

/**
 * Entitlements with a short-lived cache in front of the source, so the platform's request path costs a map lookup
 * most of the time. Concurrent misses share one load; writes through this process invalidate the account at once,
 * writes elsewhere (detection) show up within the TTL.
 */
export class EntitlementService {
  private readonly cache = new Map<string, Map<string, Cached>>();
  private readonly ttlMs: number;
  private readonly maxAccounts: number;
  private readonly now: () => number;

  /** `now` is business time (what decisions are in force); the TTL runs on the monotonic clock regardless. */
  constructor(
    private readonly source: EntitlementSource,
    opts: { ttlMs?: number; maxAccounts?: number; now?: () => number } = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 2_000;
    this.maxAccounts = opts.maxAccounts ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  get(accountId: string, scope: EntitlementScope = {}): Promise<Entitlement> {
    const tick = performance.now();
    const now = this.now();
    const key = scope.tool ?? '';
    let perAccount = this.cache.get(accountId);
    const hit = perAccount?.get(key);
    if (hit && hit.expires > tick) return hit.value;
    const value = this.source.load(accountId, now).then((inputs) => entitlementOf(accountId, inputs, now, scope));
    if (!perAccount) {
      // Oldest account first in a Map: dropping it bounds memory without an LRU's bookkeeping.
      if (this.cache.size >= this.maxAccounts) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(accountId, (perAccount = new Map()));
    }
    perAccount.set(key, { expires: tick + this.ttlMs, value });
    value.catch(() => perAccount.delete(key)); // a failed load must not be served from the cache
    return value;
  }

  invalidate(accountId: string): void {
    this.cache.delete(accountId);
  }
}
